-- An application's white-label branding (accent colour, stored images), JSON of
-- verity_domain::branding::Branding; NULL: Verity's defaults.
ALTER TABLE applications ADD COLUMN branding TEXT;
