"""Answer kinds: one module per question shape, chosen by the dispatcher."""
