"""Ruin and recreate: an adaptive large-neighbourhood search written for the dial-a-ride problem.

OR-Tools' own search stalls on days of 6-8 vehicles (a few percent above the optimum of the
benchmark), and re-solving parts of the day as OR-Tools sub-models (routing/solver.py) makes
only some twenty moves a second. This search, after Ropke & Pisinger (2006), makes hundreds:
- ruin: take a few requests out (at random, the costliest, or a group of related ones, close in
  space and time), or whole routes;
- recreate: put them back where they cost least (greedy), or the hardest to place first
  (regret), with a little noise on the costs sometimes;
- accept the new plan as in simulated annealing (worse plans less and less often); the
  operators that lead to good plans are drawn more often (adaptive weights).
What makes it fast: an insertion's cost is exact and cheap to compute, so positions are tried
in order of cost and only the cheapest few are checked for feasibility; a check is one pass or
a few along the route (earliest schedule with ride and duration bounds, below).

Every constraint of the contract is checked on the integer model of routing/instance.py (the
same rounded-up times and tightened windows as the OR-Tools model), so a route accepted here is
feasible with the exact times too; the caller still verifies the final routes exactly.
"""

from __future__ import annotations

import math
import random
import time
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from routing.instance import Instance, down, request_windows, ride_bound, time_nodes, up

# Positions tried for feasibility per request and route, cheapest first; the rest are skipped.
_CHECKS = 12
# Forward passes of the schedule before giving up (ride and duration bounds push times back).
_PASSES = 40
# Requests taken out per ruin: between _RUIN_MIN and this share of the day (at most _RUIN_MAX);
# Ropke & Pisinger's 4 and 0.4 (single search, 9 s, mean of 4-6 seeds: a7-84 2.75 % against
# 3.33 % with 2 and 0.3, a8-96 2.23 against 3.40, a7-70 1.97 against 2.73).
_RUIN_MIN = 4
_RUIN_SHARE = 0.4
_RUIN_MAX = 40
# Simulated annealing: a plan this much worse than the first is accepted with probability 1/2
# at the start; the temperature falls to _COOL_TO of that at the end.
_WORSE = 0.02
_COOL_TO = 0.002
# Adaptive weights (Ropke & Pisinger): scores for a new best, a better plan, an accepted one;
# weights are updated every _SEGMENT iterations with this reaction.
_SCORES = (33.0, 9.0, 13.0)
_SEGMENT = 100
_REACTION = 0.1
# Moves between two calls of `meet` (Search.run).
_MEET_EVERY = 20
# Noise on insertion costs, as a share of the longest distance.
_NOISE = 0.025


@dataclass(frozen=True, eq=False)
class RouteState:
    """One vehicle's stops with what insertions need: earliest and latest begins, loads."""

    seq: tuple[int, ...]
    path: tuple[int, ...]  # [start, *seq, end]
    begin: tuple[int, ...]  # earliest feasible begin at each stop of the path
    latest: tuple[int, ...]  # latest begin at each, from windows only (a relaxation)
    distance: float
    free: tuple[tuple[int, ...], ...]  # room left after [start, *seq], per dimension
    rooms: dict[tuple[int, ...], tuple[list[bool], list[int]]] = field(
        default_factory=dict, compare=False
    )
    # insertions of each request priced on this route (kept: most routes outlive a move)
    priced: dict[int, list[tuple[float, int, int]]] = field(default_factory=dict, compare=False)

    def room(self, amount: tuple[int, ...]) -> tuple[list[bool], list[int]]:
        """After each of [start, *seq]: is there room for `amount` more on board? And from
        each position, the first one without room (len(seq) + 1 if none)."""
        found = self.rooms.get(amount)
        if found is None:
            if len(amount) == 1:
                need = amount[0]
                room = [free[0] >= need for free in self.free]
            else:
                room = [
                    all(f >= a for f, a in zip(free, amount, strict=True)) for free in self.free
                ]
            full = [len(room)] * (len(room) + 1)
            for x in range(len(room) - 1, -1, -1):
                full[x] = full[x + 1] if room[x] else x
            found = (room, full)
            self.rooms[amount] = found
        return found


class Darp:
    """The integer data of an Instance as plain lists (fast to read from Python)."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        times = time_nodes(inst)
        loc = inst.loc
        self.time: list[list[int]] = times.tolist()
        self.dist: list[list[float]] = inst.distance[np.ix_(loc, loc)].tolist()
        n_nodes = len(loc)
        self.early = [0] * n_nodes
        self.late = [0] * n_nodes
        problem = inst.problem
        dims = [dim for dim in problem.dimensions if any(r.load.get(dim, 0) for r in inst.requests)]
        self.load: list[tuple[int, ...]] = [tuple(0 for _ in dims)] * n_nodes
        self.bound: list[int | None] = []
        self.usable: list[bool] = []
        max_distance = max(1.0, float(inst.distance.max()) if inst.distance.size else 1.0)
        self.penalty: list[float] = []
        for k, request in enumerate(inst.requests):
            (p_lo, p_hi), (d_lo, d_hi) = request_windows(inst, k, times)
            self.early[2 * k], self.late[2 * k] = p_lo, p_hi
            self.early[2 * k + 1], self.late[2 * k + 1] = d_lo, d_hi
            self.usable.append(p_lo <= p_hi and d_lo <= d_hi)
            amount = tuple(request.load.get(dim, 0) for dim in dims)
            self.load[2 * k] = amount
            self.load[2 * k + 1] = tuple(-a for a in amount)
            self.bound.append(ride_bound(request))
            self.penalty.append(
                1000.0 * max_distance if request.penalty is None else float(request.penalty)
            )
        self.start = list(inst.starts)
        self.end = list(inst.ends)
        self.cap: list[tuple[int, ...]] = []
        self.span: list[int | None] = []
        for v, position in enumerate(inst.vehicles):
            vehicle = problem.vehicles[position]
            self.cap.append(tuple(vehicle.capacity.get(dim, 0) for dim in dims))
            s, e = inst.starts[v], inst.ends[v]
            self.early[s], self.late[s] = up(inst.start_window[v][0]), down(inst.start_window[v][1])
            self.early[e], self.late[e] = up(inst.end_window[v][0]), down(inst.end_window[v][1])
            span = inst.span[v]
            self.span.append(None if span is None else down(span))
        self.allowed = [set(vehicles) for vehicles in inst.allowed]
        # what `insertions` reads of a request, in one tuple
        self.request_data = [
            (
                p,
                p + 1,
                self.early[p],
                self.late[p],
                self.early[p + 1],
                self.late[p + 1],
                self.bound[p // 2],
                self.load[p],
                self.time[p],
                self.dist[p],
                self.time[p + 1],
                self.dist[p + 1],
            )
            for p in range(0, 2 * len(inst.requests), 2)
        ]
        # Travel times that obey the triangle inequality (a matrix may not).
        self.metric = problem.travel.kind in ("euclidean", "geodesic")
        self.longest = max_distance
        self.horizon = max(1, max(self.late))

    # --- one route ---------------------------------------------------------------------------

    def schedule(
        self,
        v: int,
        seq: Sequence[int],
        loads_checked: bool = False,
        hint: tuple[list[int], int, int] | None = None,
    ) -> list[int] | None:
        """Earliest begins at [start, *seq, end], or None when the route is infeasible.

        All the constraints are "b >= a + c" (travel, ride and duration bounds read backwards)
        plus windows, so the earliest schedule is the least fixed point of passes along the
        route: a pass sets each begin as early as travel and windows allow, then a ride
        (or the route's duration) found too long raises its pickup's (or the start's) floor,
        and the next pass starts from there. The route is feasible iff no begin passes its
        window's end on the way.
        `hint` = (floors, departure, first): lower bounds of the begins of `seq` and of the
        departure, the first `first` floors being the begins themselves. After an insertion,
        the route's earliest schedule before it is such a bound (with the triangle inequality,
        a stop more never makes another earlier), so the first pass starts at the insertion.
        """
        cap = self.cap[v]
        if cap and not loads_checked:
            on_board = list(cap)  # room left per dimension
            load = self.load
            for node in seq:
                for d, amount in enumerate(load[node]):
                    on_board[d] -= amount
                    if on_board[d] < 0:
                        return None
        T, E, L = self.time, self.early, self.late
        position: dict[int, int] = {}
        rides: list[tuple[int, int, int]] = []
        for i, node in enumerate(seq):
            if node & 1:
                pick = position.get(node - 1)
                if pick is None:
                    return None
                bound = self.bound[node >> 1]
                if bound is not None:
                    rides.append((pick, i, bound))
            else:
                position[node] = i
        s, e = self.start[v], self.end[v]
        span = self.span[v]
        if hint is None:
            floor = [E[node] for node in seq]
            leave, first = E[s], 0
        else:
            floor, leave, first = hint
        m = len(seq)
        begin = list(floor)
        for _ in range(_PASSES):
            if leave > L[s]:
                return None
            if first == 0:
                t, prev = leave, s
            else:
                t, prev = begin[first - 1], seq[first - 1]
            for i in range(first, m):
                node = seq[i]
                t += T[prev][node]
                if t < floor[i]:
                    t = floor[i]
                if t > L[node]:
                    return None
                begin[i] = t
                prev = node
            back = t + T[prev][e]
            if back < E[e]:
                back = E[e]
            if back > L[e]:
                return None
            first = m
            for pick, drop, bound in rides:
                if begin[drop] - begin[pick] > bound:
                    floor[pick] = begin[drop] - bound
                    if pick < first:
                        first = pick
            if span is not None and back - leave > span:
                leave = back - span
                first = 0
            if first == m:
                return [leave, *begin, back]
        return None

    def state(self, v: int, seq: Sequence[int]) -> RouteState | None:
        begin = self.schedule(v, seq)
        if begin is None:
            return None
        return self._state(v, tuple(seq), begin)

    def _state(self, v: int, seq: tuple[int, ...], begin: list[int]) -> RouteState:
        T, L, D = self.time, self.late, self.dist
        path = (self.start[v], *seq, self.end[v])
        latest = [0] * len(path)
        t = latest[-1] = L[path[-1]]
        after = path[-1]
        distance = 0.0
        for i in range(len(path) - 2, -1, -1):
            node = path[i]
            t -= T[node][after]
            if L[node] < t:
                t = L[node]
            latest[i] = t
            distance += D[node][after]
            after = node
        cap = self.cap[v]
        free: list[tuple[int, ...]]
        if len(cap) == 1:
            room = cap[0]
            free = [(room,)]
            load = self.load
            for node in seq:
                room -= load[node][0]
                free.append((room,))
        else:
            free = [cap]
            for node in seq:
                free.append(tuple(f - a for f, a in zip(free[-1], self.load[node], strict=True)))
        return RouteState(
            seq, path, tuple(begin), tuple(latest), distance if seq else 0.0, tuple(free)
        )

    def insertions(self, k: int, v: int, route: RouteState) -> list[tuple[float, int, int]]:
        """Ways to insert request k into route v, cheapest first: (added distance, i, j).

        The pickup goes after stop i and the dropoff after stop j >= i of [start, *seq, end]
        (j == i: right after the pickup). Each pair that passes the quick tests (load on board,
        earliest and latest begins, ride) is priced exactly; only the cheapest _CHECKS are
        kept. Whether one is really feasible is left to `insert`: most are never tried.
        """
        known = route.priced.get(k)
        if known is not None:
            return known
        p, d, Ep, Lp, Ed, Ld, bound, amount, Tp, Dp, Td, Dd = self.request_data[k]
        begin, latest = route.begin, route.latest
        m = len(route.seq)
        # begins and latest begins only grow along the route: positions out of the windows'
        # reach are skipped by bisection
        i_from = bisect_left(latest, Ep) - 1
        if i_from < 0:
            i_from = 0
        i_to = bisect_right(begin, Lp, 0, m + 1)
        found: list[tuple[float, int, int]] = []
        if i_from >= i_to:
            route.priced[k] = found
            return found
        j_from = bisect_left(latest, Ed) - 1
        j_to = bisect_right(begin, Ld, 0, m + 1)
        path = route.path
        T, D = self.time, self.dist
        room, full = route.room(amount)
        empty_bonus = D[path[0]][path[1]] if m == 0 else 0.0
        for i in range(i_from, i_to):
            if not room[i]:
                continue
            a, b = path[i], path[i + 1]
            tp = begin[i] + T[a][p]
            if tp < Ep:
                tp = Ep
            if tp > Lp:
                continue
            # the latest the pickup can begin with the rest of the route after it
            p_latest = latest[i + 1] - Tp[b]
            if p_latest > Lp:
                p_latest = Lp
            Da = D[a]
            # dropoff right after the pickup
            if i >= j_from:
                td = tp + Tp[d]
                if td < Ed:
                    td = Ed
                if td <= Ld and td + Td[b] <= latest[i + 1]:
                    found.append((Da[p] + Dp[d] + Dd[b] - Da[b] + empty_bonus, i, i))
            if tp + Tp[b] > latest[i + 1]:
                continue
            added = Da[p] + Dp[b] - Da[b]
            # the request is on board after each stop from i + 1 to j: room needed there
            stop = full[i + 1] if full[i + 1] < j_to else j_to
            for j in range(i + 1 if i + 1 > j_from else j_from, stop):
                c = path[j]
                td = begin[j] + T[c][d]
                if td < Ed:
                    td = Ed
                if bound is not None and td - p_latest > bound:
                    break
                e = path[j + 1]
                if td <= Ld and td + Td[e] <= latest[j + 1]:
                    found.append((added + D[c][d] + Dd[e] - D[c][e], i, j))
        found.sort()
        kept = route.priced[k] = found[:_CHECKS]
        return kept

    def insert(
        self, k: int, v: int, route: RouteState, i: int, j: int
    ) -> tuple[tuple[int, ...], list[int]] | None:
        """Route v with request k inserted at (i, j) (see `insertions`) and its begins, if
        feasible."""
        p, d = 2 * k, 2 * k + 1
        seq = route.seq
        new = (*seq[:i], p, *seq[i:j], d, *seq[j:])
        hint = None
        if self.metric:
            known = route.begin
            floor = [*known[1 : i + 1], self.early[p], *known[i + 1 : j + 1], self.early[d]]
            floor += known[j + 1 : -1]
            hint = (floor, known[0], i)
        times = self.schedule(v, new, loads_checked=True, hint=hint)
        return None if times is None else (new, times)


# --- the search ----------------------------------------------------------------------------


@dataclass
class Plan:
    """Routes per vehicle and the requests left out."""

    routes: list[RouteState]
    out: set[int]
    cost: float

    def copy(self) -> Plan:
        return Plan(list(self.routes), set(self.out), self.cost)


Ruin = Callable[["Search", Plan, int], list[int]]
Meet = Callable[[list[list[int]]], list[list[int]] | None]


class Search:
    """The adaptive search over one instance; `run` improves a plan until a deadline."""

    def __init__(self, inst: Instance, rng: random.Random) -> None:
        self.data = Darp(inst)
        self.rng = rng
        self.ruins: list[tuple[str, Ruin]] = [
            ("random", Search.ruin_random),
            ("worst", Search.ruin_worst),
            ("related", Search.ruin_related),
            ("route", Search.ruin_route),
        ]
        self.recreates = [1, 2, 3]  # regret degree; 1 is greedy
        self.stats = {
            "iterations": 0,
            "best": 0,
            "accepted": 0,
            "struck": 0,
            "inserted": 0,
            "met": 0,
        }

    def plan_of(self, routes: Sequence[Sequence[int]]) -> Plan | None:
        data = self.data
        states = []
        for v, seq in enumerate(routes):
            state = data.state(v, seq)
            if state is None:
                return None
            states.append(state)
        served = {node >> 1 for seq in routes for node in seq}
        out = {k for k in range(len(data.usable)) if k not in served and data.usable[k]}
        return Plan(states, out, self.cost(states, out))

    def cost(self, routes: Sequence[RouteState], out: set[int]) -> float:
        return sum(r.distance for r in routes) + sum(self.data.penalty[k] for k in out)

    # --- ruins: each takes requests out of `plan` and returns them ------------------------------

    def served(self, plan: Plan) -> list[tuple[int, int]]:
        """(request, vehicle) of every request served, in route order."""
        return [
            (node >> 1, v) for v, r in enumerate(plan.routes) for node in r.seq if node & 1 == 0
        ]

    def ruin_random(self, plan: Plan, q: int) -> list[int]:
        served = self.served(plan)
        chosen = self.rng.sample(served, min(q, len(served)))
        return self.take_out(plan, chosen)

    def ruin_worst(self, plan: Plan, q: int) -> list[int]:
        """The requests whose removal saves the most distance (with some randomness)."""
        D = self.data.dist
        gains = []
        for v, r in enumerate(plan.routes):
            path = (self.data.start[v], *r.seq, self.data.end[v])
            where = {node: i for i, node in enumerate(path)}
            for node in r.seq:
                if node & 1:
                    continue
                i, j = where[node], where[node + 1]
                if j == i + 1:
                    saved = D[path[i - 1]][node] + D[node][node + 1] + D[node + 1][path[j + 1]]
                    saved -= D[path[i - 1]][path[j + 1]]
                else:
                    a, b, c, e = path[i - 1], path[i + 1], path[j - 1], path[j + 1]
                    saved = D[a][node] + D[node][b] - D[a][b]
                    saved += D[c][node + 1] + D[node + 1][e] - D[c][e]
                gains.append((saved, node >> 1, v))
        gains.sort(reverse=True)
        chosen: list[tuple[int, int]] = []
        while gains and len(chosen) < q:
            index = int(len(gains) * self.rng.random() ** 4)
            _, k, v = gains.pop(index)
            chosen.append((k, v))
        return self.take_out(plan, chosen)

    def ruin_related(self, plan: Plan, q: int) -> list[int]:
        """A request and the ones most like it: near in space and in time (Shaw)."""
        data = self.data
        D = data.dist
        served = self.served(plan)
        if not served:
            return []
        when: dict[int, tuple[int, int]] = {}
        for r in plan.routes:
            for i, node in enumerate(r.seq):
                k = node >> 1
                t = r.begin[i + 1]
                pickup, dropoff = when.get(k, (0, 0))
                when[k] = (t, dropoff) if node & 1 == 0 else (pickup, t)
        vehicle = dict(served)
        first = self.rng.choice(served)[0]
        chosen = [first]
        left = [k for k, _ in served if k != first]
        scale_d = 9.0 / data.longest
        scale_t = 3.0 / data.horizon
        while left and len(chosen) < q:
            seed = self.rng.choice(chosen)
            sp, sd = 2 * seed, 2 * seed + 1
            tp, td = when[seed]

            def unlike(k: int, sp: int = sp, sd: int = sd, tp: int = tp, td: int = td) -> float:
                t = when[k]
                return scale_d * (D[sp][2 * k] + D[sd][2 * k + 1]) + scale_t * (
                    abs(tp - t[0]) + abs(td - t[1])
                )

            left.sort(key=unlike)
            chosen.append(left.pop(int(len(left) * self.rng.random() ** 6)))
        return self.take_out(plan, [(k, vehicle[k]) for k in chosen])

    def ruin_route(self, plan: Plan, q: int) -> list[int]:
        """Every request of one route (or two short ones): frees a vehicle."""
        used = [v for v, r in enumerate(plan.routes) if r.seq]
        if not used:
            return []
        used.sort(key=lambda v: len(plan.routes[v].seq))
        v = used[int(len(used) * self.rng.random() ** 2)]
        chosen = [(node >> 1, v) for node in plan.routes[v].seq if node & 1 == 0]
        return self.take_out(plan, chosen)

    def take_out(self, plan: Plan, chosen: Sequence[tuple[int, int]]) -> list[int]:
        data = self.data
        by_vehicle: dict[int, set[int]] = {}
        for k, v in chosen:
            by_vehicle.setdefault(v, set()).update((2 * k, 2 * k + 1))
        for v, nodes in by_vehicle.items():
            seq = [node for node in plan.routes[v].seq if node not in nodes]
            state = data.state(v, seq)
            if state is None:  # a matrix without the triangle inequality: keep the route
                continue
            plan.routes[v] = state
        taken = [k for k, v in chosen if 2 * k not in plan.routes[v].seq]
        return taken

    # --- recreate ---------------------------------------------------------------------------

    def recreate(self, plan: Plan, requests: list[int], regret: int, noise: bool) -> None:
        """Insert `requests` (and those left out) again: cheapest first, or regret-k.

        Prices come from `insertions` (not yet checked); the chosen insertion is checked, and
        when it proves infeasible it is struck out and the choice made again.
        """
        data = self.data
        rng = self.rng
        amplitude = _NOISE * data.longest if noise else 0.0
        todo = sorted(set(requests) | plan.out)
        options: dict[int, dict[int, list[tuple[float, int, int]]]] = {}
        # per request: (price of its cheapest way into a route, route), cheapest first
        ranked: dict[int, list[tuple[float, int]]] = {}
        for k in todo:
            mine = options[k] = {}
            for v in data.allowed[k]:
                found = data.insertions(k, v, plan.routes[v])
                if found:
                    mine[v] = found
            ranked[k] = sorted((found[0][0], v) for v, found in mine.items())
        while todo:
            pick = None
            pick_score = -math.inf
            for k in todo:
                costs = ranked[k]
                if not costs:
                    continue
                first = costs[0][0]
                if amplitude:
                    first += amplitude * (2.0 * rng.random() - 1.0)
                if regret == 1:
                    score = -first
                else:
                    score = 0.0
                    for h in range(1, regret):
                        score += (costs[h][0] if h < len(costs) else 1e9) - first
                    score = score * 1e3 - first * 1e-3  # ties: the cheapest
                if score > pick_score:
                    pick, pick_score = k, score
            if pick is None:
                break
            v = ranked[pick][0][1]
            ways = options[pick][v]
            _, i, j = ways[0]
            done = data.insert(pick, v, plan.routes[v], i, j)
            if done is None:
                ways.pop(0)
                _rerank(ranked[pick], v, ways[0][0] if ways else None)
                if not ways:
                    del options[pick][v]
                self.stats["struck"] += 1
                continue
            self.stats["inserted"] += 1
            plan.routes[v] = data._state(v, *done)
            todo.remove(pick)
            del options[pick], ranked[pick]
            route = plan.routes[v]
            for k in todo:
                if v in data.allowed[k]:
                    found = data.insertions(k, v, route)
                    if found:
                        options[k][v] = found
                        _rerank(ranked[k], v, found[0][0])
                    elif options[k].pop(v, None) is not None:
                        _rerank(ranked[k], v, None)
        plan.out = set(todo)
        plan.cost = self.cost(plan.routes, plan.out)

    # --- the loop ---------------------------------------------------------------------------

    def run(
        self,
        plan: Plan,
        deadline: float,
        iterations: int | None = None,
        meet: Meet | None = None,
    ) -> Plan:
        """The best plan found from `plan` by `deadline` (or after `iterations` moves: the
        temperature then falls with the moves made rather than the time, so that a run does
        the same on any machine).

        `meet`, asked every _MEET_EVERY moves with the best plan's routes, may answer with
        another search's best routes: taken as best and current when shorter."""
        rng = self.rng
        best = plan.copy()
        current = plan.copy()
        served = sum(len(r.seq) for r in plan.routes) // 2
        n = max(1, served + len(plan.out))
        q_max = max(_RUIN_MIN, min(_RUIN_MAX, int(_RUIN_SHARE * n)))
        distance = sum(r.distance for r in plan.routes)
        t0 = _WORSE * max(distance, 1e-9) / math.log(2)
        ruin_w = [1.0] * len(self.ruins)
        recreate_w = [1.0] * (2 * len(self.recreates))
        ruin_s = [0.0] * len(ruin_w)
        ruin_n = [0] * len(ruin_w)
        recreate_s = [0.0] * len(recreate_w)
        recreate_n = [0] * len(recreate_w)
        began = time.monotonic()
        total = max(1e-3, deadline - began)
        seen: set[int] = set()
        iteration = 0
        step = 0.0  # how long the last move took: none is started that would end too late
        while True:
            now = time.monotonic()
            if now + step >= deadline or iteration == iterations:
                break
            progress = (now - began) / total if iterations is None else iteration / iterations
            iteration += 1
            temperature = t0 * _COOL_TO**progress
            a = rng.choices(range(len(ruin_w)), ruin_w)[0]
            b = rng.choices(range(len(recreate_w)), recreate_w)[0]
            q = rng.randint(_RUIN_MIN, q_max)
            candidate = current.copy()
            taken = self.ruins[a][1](self, candidate, q)
            regret = self.recreates[b % len(self.recreates)]
            self.recreate(candidate, taken, regret, noise=b >= len(self.recreates))
            score = 0.0
            key = hash(tuple(r.seq for r in candidate.routes))
            new = key not in seen
            seen.add(key)
            if candidate.cost < best.cost - 1e-9:
                best = candidate.copy()
                current = candidate
                score = _SCORES[0]
                self.stats["best"] += 1

            elif candidate.cost < current.cost - 1e-9:
                current = candidate
                score = _SCORES[1] if new else 0.0
            elif rng.random() < math.exp(-(candidate.cost - current.cost) / temperature):
                current = candidate
                score = _SCORES[2] if new else 0.0
                self.stats["accepted"] += 1
            ruin_s[a] += score
            ruin_n[a] += 1
            recreate_s[b] += score
            recreate_n[b] += 1
            step = time.monotonic() - now
            if meet is not None and iteration % _MEET_EVERY == 0:
                other = meet([list(r.seq) for r in best.routes])
                theirs = None if other is None else self.plan_of(other)
                if theirs is not None and theirs.cost < best.cost - 1e-9:
                    best, current = theirs.copy(), theirs
                    self.stats["met"] += 1
            if iteration % _SEGMENT == 0:
                _reweigh(ruin_w, ruin_s, ruin_n)
                _reweigh(recreate_w, recreate_s, recreate_n)
        self.stats["iterations"] = iteration
        return best


def _rerank(ranked: list[tuple[float, int]], v: int, cost: float | None) -> None:
    """Route v's entry in a request's `ranked` list set to `cost` (None: taken out)."""
    for index, (_, w) in enumerate(ranked):
        if w == v:
            del ranked[index]
            break
    if cost is not None:
        insort(ranked, (cost, v))


def _reweigh(weights: list[float], scores: list[float], counts: list[int]) -> None:
    for i, count in enumerate(counts):
        if count:
            weights[i] = max(0.05, (1 - _REACTION) * weights[i] + _REACTION * scores[i] / count)
        scores[i] = 0.0
        counts[i] = 0


def improve(
    inst: Instance,
    routes: Sequence[Sequence[int]],
    deadline: float,
    rng: random.Random,
    iterations: int | None = None,
    meet: Meet | None = None,
) -> tuple[list[list[int]], dict[str, int]]:
    """Better routes for `inst` (node lists per vehicle), searched until `deadline` (or for
    that many `iterations`). Requests left out of `routes` are inserted first."""
    search = Search(inst, rng)
    plan = search.plan_of(routes)
    if plan is None:  # the routes given are not feasible in the integer model: start afresh
        plan = search.plan_of([[] for _ in routes])
        assert plan is not None
    if plan.out:
        search.recreate(plan, [], 2, noise=False)
    best = search.run(plan, deadline, iterations, meet)
    return [list(r.seq) for r in best.routes], search.stats
