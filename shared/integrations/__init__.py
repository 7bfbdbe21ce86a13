"""Connections to the businesses' own accounts at OAuth providers (QuickBooks Online, Google
Calendar): ``connections`` keeps the tokens, the connect flow's state and the refresh lock;
``callback`` completes a flow for the ``oauth_callback`` function through the provider's
registered handler. Provider-neutral: each provider's package (``shared.quickbooks``, ...) builds
on them."""
