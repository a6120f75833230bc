# Shops: the shop key, connected shops and their encrypted tokens, connecting one, and its connector.
"""`keys` (`ShopKey`, `<platform>-<shop_id>`), `connections` (shops and their sealed tokens; key
rotation), `oauth` (connecting a shop) and `marketplaces` (a shop's connector, built from the registry).

The package exports nothing itself: callers import its modules
(`from syncstore.shops import ...`).
"""
