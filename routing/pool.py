"""Route pool and set-partitioning recombination (OR-Tools CP-SAT).

Every sub-problem the large-neighbourhood search solves yields whole routes, most of them
thrown away because the move as a whole did not shorten the day. Yet a route from a rejected
move can be better than the current one that serves the same requests, or combine with
routes found elsewhere. The pool keeps every distinct route seen (for each set of requests
and kind of vehicle, the shortest order found), and `recombine` picks the best set of pooled
routes that serves each request at most once, no more routes of a kind than there are such
vehicles, serving as many requests as possible and then driving the least (a set-partitioning
problem, solved by CP-SAT from the current plan as a hint).

The pool knows nothing of the routing model: routes are lists of node numbers (2k pickup and
2k+1 dropoff of request k), vehicles are positions, and the caller gives each route's cost and
checks the routes picked (`verify`): a pooled route is only known feasible for the vehicle it
was found on, and routes of the time slices are spliced, so each one picked is verified once
(a failing one is banned and the problem solved again).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

Routes = list[list[int]]

# Integer resolution of route costs in the set-partitioning model.
_COST_SCALE = 1000


@dataclass
class Entry:
    kind: int  # vehicle kind
    nodes: tuple[int, ...]
    cost: float
    checked: bool = False  # verified feasible by the caller
    previous: Entry | None = None  # the longer order it replaced (taken back if this one fails)


class RoutePool:
    """The shortest route seen for each (vehicle kind, set of requests)."""

    def __init__(
        self,
        kinds: Sequence[Hashable],
        cost: Callable[[int, Sequence[int]], float],
        cover: bool = False,
    ) -> None:
        """`kinds[v]` describes vehicle v: vehicles with equal kinds can swap routes.

        `cost(v, nodes)` is the cost of a route on vehicle v (the same for its whole kind).
        """
        self.cost = cost
        self.cover = cover
        numbers: dict[Hashable, int] = {}
        self.kind_of = [numbers.setdefault(kind, len(numbers)) for kind in kinds]
        self.fleet = [self.kind_of.count(k) for k in range(len(numbers))]
        self.entries: dict[tuple[int, frozenset[int]], Entry] = {}
        self.banned: set[tuple[int, tuple[int, ...]]] = set()
        self.added = 0  # routes offered since the last recombination

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, vehicle: int, nodes: Sequence[int], checked: bool = False) -> None:
        """Offer a route of `vehicle` (node list without depots)."""
        if not nodes:
            return
        kind = self.kind_of[vehicle]
        route = tuple(nodes)
        if (kind, route) in self.banned:
            return
        key = (kind, frozenset(node // 2 for node in route))
        entry = self.entries.get(key)
        if entry is not None and entry.nodes == route:
            entry.checked = entry.checked or checked
            return
        cost = self.cost(vehicle, route)
        if entry is None or cost < entry.cost - 1e-9:
            self.entries[key] = Entry(kind, route, cost, checked, entry)
            self.added += 1

    def export(self) -> list[tuple[int, tuple[int, ...], bool]]:
        """Every pooled route as (kind, nodes, checked), e.g. to send to another process."""
        return [(entry.kind, entry.nodes, entry.checked) for entry in self.entries.values()]

    def merge(self, routes: Sequence[tuple[int, tuple[int, ...], bool]]) -> None:
        """Add the routes of another pool of the same vehicles (its `export`)."""
        for kind, nodes, checked in routes:
            self.add(self.kind_of.index(kind), nodes, checked)

    def recombine(
        self,
        routes: Sequence[Sequence[int]],
        seconds: float,
        verify: Callable[[int, list[int]], bool],
        work: float | None = None,
    ) -> Routes | None:
        """The best plan made of pooled routes, or None when none beats `routes`.

        `routes` (per vehicle, every one feasible) are added to the pool first and hinted, so
        the answer is never worse. `work` bounds CP-SAT's deterministic time (so the same pool
        gives the same answer on a fast or a slow machine); `seconds` is the wall-clock cap.
        With `cover` (set covering), a request may be in several routes picked; it is then
        kept in the route where it costs most to drop and dropped from the others.
        """
        self.added = 0
        for v, nodes in enumerate(routes):
            self.add(v, nodes, checked=True)
        current = self._key_set(routes)
        served = sum(len(nodes) for nodes in routes)
        distance = sum(self.cost(v, nodes) for v, nodes in enumerate(routes) if nodes)
        for _ in range(5):  # a banned route means one more solve; rarely more than one
            chosen = self._solve(current, seconds, work)
            if chosen is None:
                return None
            picked = self._without_duplicates([self.entries[key] for key in chosen])
            gain = sum(len(nodes) for _, nodes in picked) - served
            cost = sum(self._kind_cost(kind, nodes) for kind, nodes in picked)
            if gain < 0 or (gain == 0 and cost > distance - 1e-6):
                return None
            plan = self._assign(routes, picked)
            if plan is None:
                return None
            bad = False
            for v, nodes in enumerate(plan):
                if not nodes or nodes == list(routes[v]):
                    continue
                entry = self.entries.get(self._key(v, nodes))
                pooled = entry is not None and entry.nodes == tuple(nodes)
                if pooled and entry.checked:  # type: ignore[union-attr]
                    continue
                if verify(v, nodes):
                    if pooled:
                        entry.checked = True  # type: ignore[union-attr]
                    continue
                if not pooled:  # a pooled route with a request dropped: give up this time
                    return None
                self.banned.add((self.kind_of[v], tuple(nodes)))
                previous = self.entries.pop(self._key(v, nodes)).previous
                if previous is not None:
                    self.entries[self._key(v, nodes)] = previous
                bad = True
            if not bad:
                return plan
        return None

    def _kind_cost(self, kind: int, nodes: Sequence[int]) -> float:
        return self.cost(self.kind_of.index(kind), nodes) if nodes else 0.0

    def _without_duplicates(self, picked: list[Entry]) -> list[tuple[int, tuple[int, ...]]]:
        """Each request in one route only: where dropping it would save the least."""
        plan = [(entry.kind, entry.nodes) for entry in picked]
        routes_of: dict[int, list[int]] = {}
        for i, (_, nodes) in enumerate(plan):
            for node in nodes:
                if node % 2 == 0:
                    routes_of.setdefault(node // 2, []).append(i)
        for request in sorted(routes_of):
            holders = routes_of[request]
            if len(holders) < 2:
                continue
            dropped = {i: tuple(n for n in plan[i][1] if n // 2 != request) for i in holders}
            saving = {
                i: self._kind_cost(plan[i][0], plan[i][1]) - self._kind_cost(plan[i][0], dropped[i])
                for i in holders
            }
            keep = min(holders, key=lambda i: (saving[i], i))
            for i in holders:
                if i != keep:
                    plan[i] = (plan[i][0], dropped[i])
        return [(kind, nodes) for kind, nodes in plan if nodes]

    def _key(self, vehicle: int, nodes: Sequence[int]) -> tuple[int, frozenset[int]]:
        return (self.kind_of[vehicle], frozenset(node // 2 for node in nodes))

    def _key_set(self, routes: Sequence[Sequence[int]]) -> set[tuple[int, frozenset[int]]]:
        return {self._key(v, nodes) for v, nodes in enumerate(routes) if nodes}

    def _solve(
        self,
        hint: set[tuple[int, frozenset[int]]],
        seconds: float,
        work: float | None,
    ) -> set[tuple[int, frozenset[int]]] | None:
        """Most requests served first, then least cost; each request in one route at most
        (set partitioning) or in one route at least when it is served (set covering)."""
        keys = list(self.entries)
        model = cp_model.CpModel()
        chosen = [model.new_bool_var(f"r{i}") for i in range(len(keys))]
        covering: dict[int, list[cp_model.IntVar]] = {}
        by_kind: dict[int, list[cp_model.IntVar]] = {}
        for var, key in zip(chosen, keys, strict=True):
            for request in key[1]:
                covering.setdefault(request, []).append(var)
            by_kind.setdefault(key[0], []).append(var)
        for kind, variables in by_kind.items():
            model.add(sum(variables) <= self.fleet[kind])
        costs = [round(self.entries[key].cost * _COST_SCALE) for key in keys]
        # A request served now stays served (exactly once, or at least once when covering);
        # serving one more of the others beats any distance (no plan has more routes than
        # vehicles), and they are absent from the objective when there are none.
        must = {request for key in hint for request in key[1]}
        served_weight = max(costs, default=0) * sum(self.fleet) + 1
        bonus = []
        for request, variables in covering.items():
            if request in must:
                if self.cover:
                    model.add_bool_or(variables)
                else:
                    model.add_exactly_one(variables)
                continue
            is_served = model.new_bool_var("")
            if self.cover:
                model.add_bool_or(variables).only_enforce_if(is_served)
            else:
                model.add_at_most_one(variables)
                model.add(sum(variables) >= 1).only_enforce_if(is_served)
            bonus.append(is_served)
        model.minimize(
            sum(cost * var for cost, var in zip(costs, chosen, strict=True))
            - served_weight * sum(bonus)
        )
        for var, key in zip(chosen, keys, strict=True):
            model.add_hint(var, key in hint)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = max(0.01, seconds)
        if work is not None:
            solver.parameters.max_deterministic_time = work
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return {key for key, var in zip(keys, chosen, strict=True) if solver.value(var)}

    def _assign(
        self, routes: Sequence[Sequence[int]], picked: list[tuple[int, tuple[int, ...]]]
    ) -> Routes | None:
        """Give each picked route a vehicle of its kind, keeping unchanged routes in place."""
        plan: Routes = [[] for _ in routes]
        free = list(range(len(routes)))
        left = []
        for kind, nodes in picked:
            same = next((v for v in free if routes[v] and tuple(routes[v]) == nodes), None)
            if same is None:
                left.append((kind, nodes))
            else:
                plan[same] = list(nodes)
                free.remove(same)
        # Then on the vehicle that served most of its requests, else any of its kind.
        for kind, nodes in left:
            requests = {node // 2 for node in nodes}
            candidates = [v for v in free if self.kind_of[v] == kind]
            if not candidates:
                return None
            v = max(
                candidates,
                key=lambda u: (len(requests & {node // 2 for node in routes[u]}), -u),
            )
            plan[v] = list(nodes)
            free.remove(v)
        return plan
