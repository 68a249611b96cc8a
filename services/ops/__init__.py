"""What the API routes and the console both call: app state, reads, bookings and actions."""
