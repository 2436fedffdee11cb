"""SQL over the marts, one module per resource; always parameterised."""
