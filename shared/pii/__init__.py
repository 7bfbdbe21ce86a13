"""Personal data rules that more than one capability applies (card numbers: ``cards``)."""
