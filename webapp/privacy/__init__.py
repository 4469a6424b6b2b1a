"""Data rights: the privacy page, a person's own data export, a firm's complete export."""
