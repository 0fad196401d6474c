"""Dial-a-ride solver for one day: plain data in, plan out (contract: shared/routing-format.md)."""

from routing.problem import Location, Problem, ProblemError, Request, Travel, Vehicle, load_problem
from routing.solution import Route, Solution, SolutionError, Stop, Unserved, load_solution

__all__ = [
    "Location",
    "Problem",
    "ProblemError",
    "Request",
    "Route",
    "Solution",
    "SolutionError",
    "Stop",
    "Travel",
    "Unserved",
    "Vehicle",
    "load_problem",
    "load_solution",
]
