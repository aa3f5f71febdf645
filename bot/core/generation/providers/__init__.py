"""Image providers, one module each, behind the `ImageProvider` protocol in `base`."""
