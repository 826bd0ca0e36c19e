"""The `phoneunify` command and what only it uses: the demo, the terminal timeline and the
provider simulator. The application layer: it may import every other package, and no product
package imports it (tests/unit/test_layers.py keeps it so)."""
