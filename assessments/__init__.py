"""Assessment frameworks as versioned data files, and the loader that turns them into
`scoring` types. May import `scoring`; never `webapp`, Flask or SQLAlchemy."""
