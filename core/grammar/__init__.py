"""The one command grammar (A7): tokenizer, verb registry and parser."""

from core.grammar.parser import parse, suggest
from core.grammar.registry import REGISTRY, Verb, all_verbs, find_verb

__all__ = ["REGISTRY", "Verb", "all_verbs", "find_verb", "parse", "suggest"]
