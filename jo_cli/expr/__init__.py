"""The expression language of SPEC §8: parsed to an AST, type-checked, compiled once per run."""
