"""Signal handlers for staff accounts (connected in AccountsConfig.ready)."""
