"""Outputs: figures, tables and widgets. The core never imports this package."""
