"""Analytics (pure): P&L attribution and performance statistics over journals."""
