"""Web plumbing shared by the portal, the admin console and the API: sessions, credentials, errors."""
