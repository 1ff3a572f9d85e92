"""`jo explain CODE`: a rule's documentation with a failing and a passing example."""

from __future__ import annotations

from typing import Annotated

import typer


def explain_command(
    code: Annotated[str | None, typer.Argument(help="A finding code such as JO201; omit to list every code.")] = None,
) -> None:
    """Explain a finding code, or list every code."""
    from jo_cli.cli.render.rules import render_rule, render_rule_list
    from jo_cli.errors import JoError
    from jo_cli.rules import RULES

    if code is None:
        typer.echo(render_rule_list(RULES.values()), nl=False)
        return
    rule = RULES.get(code.upper())
    if rule is None:
        from jo_cli.suggest import closest

        close = closest(code.upper(), RULES)
        raise JoError(f"unknown code `{code}`" + (f"; did you mean {close}?" if close else "")
                      + " (`jo explain` lists every code)")
    typer.echo(render_rule(rule), nl=False)
