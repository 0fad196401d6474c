"""`python -m routing` as a user runs it: exit codes, messages, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from routing.problem import load_problem
from routing.solution import Solution

DATA = Path(__file__).parent / "data"


def run(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "routing", *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_solve_writes_a_solution_that_check_accepts(tmp_path: Path) -> None:
    problem = DATA / "one-request.json"
    solved = run("solve", problem, "--time-limit", "1", "--seed", "3")
    assert solved.returncode == 0, solved.stderr
    solution = Solution.from_dict(json.loads(solved.stdout))
    assert [stop.request for stop in solution.routes[0].stops] == ["r1", "r1"]
    assert "one-request" in solved.stderr  # progress goes to stderr, not into the JSON

    path = tmp_path / "solution.json"
    path.write_text(solved.stdout, encoding="utf-8")
    checked = run("check", problem, path)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.strip() == "solution réalisable"


def test_solve_with_unserved_request_exits_0_and_writes_output_file(tmp_path: Path) -> None:
    output = tmp_path / "out.json"
    solved = run("solve", DATA / "impossible-window.json", "--time-limit", "1", "-o", output)
    assert solved.returncode == 0, solved.stderr
    assert solved.stdout == ""
    solution = Solution.from_dict(json.loads(output.read_text(encoding="utf-8")))
    assert [item.request for item in solution.unserved] == ["too-early"]
    assert solution.unserved[0].reason
    assert run("check", DATA / "impossible-window.json", output).returncode == 0


def test_solve_rejects_an_invalid_problem_with_the_field_and_exit_2(tmp_path: Path) -> None:
    data = load_problem(DATA / "one-request.json").to_dict()
    data["requests"][0]["pickup"] = "home-9"
    path = tmp_path / "invalid.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    solved = run("solve", path)
    assert solved.returncode == 2
    assert 'requests[0].pickup: lieu inconnu "home-9"' in solved.stderr
    assert "Traceback" not in solved.stderr
    assert solved.stdout == ""


def test_solve_rejects_malformed_json_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x", "travel": ', encoding="utf-8")
    solved = run("solve", path)
    assert solved.returncode == 2
    assert "JSON mal formé" in solved.stderr
    assert "Traceback" not in solved.stderr


def test_solve_missing_file_exits_2(tmp_path: Path) -> None:
    solved = run("solve", tmp_path / "nothing.json")
    assert solved.returncode == 2
    assert "nothing.json: lecture impossible" in solved.stderr
    assert "Traceback" not in solved.stderr


def test_check_lists_every_violation_and_exits_1(tmp_path: Path) -> None:
    solution = {
        "routes": [
            {
                "vehicle": "car",
                "start": 10,
                "end": 33,
                "distance": 20,
                "stops": [
                    {
                        "request": "r1",
                        "type": "pickup",
                        "location": "home-1",
                        "arrival": 15,
                        "begin": 15,
                        "departure": 16,
                    },
                    {
                        "request": "r1",
                        "type": "dropoff",
                        "location": "venue",
                        "arrival": 22,
                        "begin": 35,
                        "departure": 36,
                    },
                ],
            }
        ],
        "unserved": [],
        "distance": 20,
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(solution), encoding="utf-8")
    checked = run("check", DATA / "one-request.json", path)
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    assert any("départ à 16 (0:16) au lieu de 17 (0:17)" in line for line in lines)
    assert any("hors de la fenêtre" in line for line in lines)
    assert any("retour au dépôt à 33 (0:33), impossible avant 46 (0:46)" in line for line in lines)
    assert "solution réalisable" not in checked.stdout


def test_check_malformed_solution_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "solution.json"
    path.write_text(json.dumps({"routes": [{"vehicle": "car"}], "distance": 0}), "utf-8")
    checked = run("check", DATA / "one-request.json", path)
    assert checked.returncode == 2
    assert "routes[0].stops: champ obligatoire manquant" in checked.stderr
    assert "Traceback" not in checked.stderr
