"""The one command grammar (A7): tokenizer, verb registry and parser."""

from core.grammar.parser import parse
from core.grammar.registry import REGISTRY, Verb, all_verbs, find_verb
from core.suggest import suggest

__all__ = ["REGISTRY", "Verb", "all_verbs", "find_verb", "parse", "suggest"]
