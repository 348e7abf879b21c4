-- Keep a figure computed as of :as_of from the batches up to :horizon (metrics/past.py);
-- a figure kept from a later horizon meanwhile stays.
INSERT INTO past_figures (key, as_of, horizon, figures)
VALUES (:key, :as_of, :horizon, CAST(:figures AS jsonb))
ON CONFLICT (key) DO UPDATE
   SET horizon = EXCLUDED.horizon, figures = EXCLUDED.figures, computed_at = now()
 WHERE past_figures.horizon < EXCLUDED.horizon
