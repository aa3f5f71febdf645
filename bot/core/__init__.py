"""The platform-free core: rules, storage, queue, providers. Never imports discord or telegram."""
