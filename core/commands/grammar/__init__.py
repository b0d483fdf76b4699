"""The one command grammar (A7): tokenizer, verb registry and parser."""

from core.commands.grammar.parser import parse, parse_fields
from core.commands.grammar.registry import REGISTRY, Verb, all_verbs, find_verb
from core.commands.suggest import suggest

__all__ = ["REGISTRY", "Verb", "all_verbs", "find_verb", "parse", "parse_fields", "suggest"]
