"""Provider adapters against local servers that speak each provider's protocol."""
