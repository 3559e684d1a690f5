"""Image providers behind one interface and a registry, the router that picks one, pricing."""
