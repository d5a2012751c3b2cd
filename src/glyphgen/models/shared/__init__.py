"""Code every model may build on; models never import each other."""
