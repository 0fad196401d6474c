"""`flask --app webapp demo` (stub: owned and replaced by the animator-pages engineer)."""

from __future__ import annotations

import click


@click.command("demo")
@click.option("--reset", is_flag=True, help="Efface puis recharge le territoire de démonstration.")
def demo_command(reset: bool) -> None:
    """Charge le territoire de démonstration."""
    click.echo("Données de démonstration : pas encore disponibles.")
