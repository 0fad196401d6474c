"""Command line: `python -m routing solve|check` (contract: shared/routing-format.md).

Exit codes: 0 success (even with unserved requests), 1 `check` found violations,
2 unreadable or invalid input (the message on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from routing.check import check
from routing.problem import ProblemError, load_problem
from routing.solution import Solution, SolutionError, load_solution

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        if arguments.command == "solve":
            return _solve(arguments)
        return _check(arguments)
    except (ProblemError, SolutionError) as error:
        _say(f"erreur : {error}")
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m routing", description="Tournées de transport à la demande d'une journée."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    solve = commands.add_parser("solve", help="calculer les tournées d'un problème JSON")
    solve.add_argument("problem", type=Path, help="fichier JSON du problème")
    solve.add_argument(
        "--time-limit", type=float, default=10.0, metavar="SECONDES", help="défaut : 10"
    )
    solve.add_argument("--seed", type=int, default=0, help="graine aléatoire (défaut : 0)")
    solve.add_argument(
        "-o", "--output", type=Path, help="fichier JSON de la solution (défaut : sortie standard)"
    )
    verify = commands.add_parser("check", help="lister les violations d'une solution")
    verify.add_argument("problem", type=Path, help="fichier JSON du problème")
    verify.add_argument("solution", type=Path, help="fichier JSON de la solution")
    return parser


def _solve(arguments: argparse.Namespace) -> int:
    problem = load_problem(arguments.problem)
    _say(
        f"problème {problem.name} : {len(problem.requests)} demandes, "
        f"{len(problem.vehicles)} véhicules, {len(problem.locations)} lieux"
    )
    # Imported here so that `check` works without the solver (and without loading OR-Tools).
    from routing.solver import solve

    solution = solve(problem, time_limit=arguments.time_limit, seed=arguments.seed, log=_say)
    text = json.dumps(solution.to_dict(), ensure_ascii=False, indent=2) + "\n"
    if arguments.output is None:
        sys.stdout.write(text)
    else:
        try:
            arguments.output.write_text(text, encoding="utf-8")
        except OSError as error:
            _say(f"erreur : écriture impossible de {arguments.output} ({error.strerror})")
            return EXIT_BAD_INPUT
    _say(_summary(solution))
    return EXIT_OK


def _summary(solution: Solution) -> str:
    used = sum(1 for route in solution.routes if route.stops)
    return (
        f"{used} tournée(s), distance {solution.distance:.2f}, "
        f"{len(solution.unserved)} demande(s) non servie(s)"
    )


def _check(arguments: argparse.Namespace) -> int:
    problem = load_problem(arguments.problem)
    solution = load_solution(arguments.solution)
    violations = check(problem, solution)
    for violation in violations:
        print(violation)
    if violations:
        _say(f"{len(violations)} violation(s)")
        return EXIT_VIOLATIONS
    print("solution réalisable")
    return EXIT_OK


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
