# Read models across the core (the Overview's figures): above sync, inventory and ops, imported by none of them.
