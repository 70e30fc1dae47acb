-- Indicative renovation prices (EUR, labour and materials, per square metre plus a fixed
-- part for fittings), used by the agent's estimate_renovation_cost tool. Owned by the app:
-- edit with a new migration.
INSERT INTO "renovation_prices" ("room", "finish", "cost_per_sqm_cents", "fixed_cost_cents") VALUES
  ('kitchen', 'basic', 80000, 300000), ('kitchen', 'standard', 150000, 600000), ('kitchen', 'premium', 260000, 1200000),
  ('bathroom', 'basic', 90000, 150000), ('bathroom', 'standard', 170000, 300000), ('bathroom', 'premium', 300000, 600000),
  ('bedroom', 'basic', 15000, 0), ('bedroom', 'standard', 30000, 0), ('bedroom', 'premium', 55000, 0),
  ('living_room', 'basic', 18000, 0), ('living_room', 'standard', 35000, 0), ('living_room', 'premium', 65000, 0),
  ('hallway', 'basic', 12000, 0), ('hallway', 'standard', 25000, 0), ('hallway', 'premium', 45000, 0),
  ('basement', 'basic', 40000, 200000), ('basement', 'standard', 75000, 400000), ('basement', 'premium', 130000, 800000),
  ('attic', 'basic', 50000, 250000), ('attic', 'standard', 95000, 500000), ('attic', 'premium', 160000, 900000),
  ('garage', 'basic', 20000, 0), ('garage', 'standard', 40000, 100000), ('garage', 'premium', 70000, 200000),
  ('roof', 'basic', 12000, 150000), ('roof', 'standard', 20000, 250000), ('roof', 'premium', 35000, 400000)
ON CONFLICT ("room", "finish") DO NOTHING;
