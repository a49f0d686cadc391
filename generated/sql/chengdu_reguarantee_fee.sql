WITH __pl_0 AS (
  SELECT
    *,
    CASE
      WHEN "guarantee_amount" IS NULL
      THEN ERROR(
        'E602: cases column `guarantee_amount`: no value, and the field (money) has no default'
      )
      ELSE CAST("guarantee_amount" AS DECIMAL(38, 10))
    END AS "__pl_in_guarantee_amount",
    COALESCE("in_chengdu", TRUE) AS "__pl_in_in_chengdu",
    CASE
      WHEN "private" IS NULL
      THEN ERROR('E602: cases column `private`: no value, and the field (bool) has no default')
      ELSE "private"
    END AS "__pl_in_private",
    CASE
      WHEN NOT "class" IN (
        'smart_digital',
        'equipment_renewal',
        'tech_sme',
        'innovative_sme',
        'high_tech',
        'specialised',
        'technology_centre',
        'single_champion',
        'none'
      )
      THEN ERROR(
        'E604: cases column `class`: a value that is not a member of enum `waived_class` (members: smart_digital, equipment_renewal, tech_sme, innovative_sme, high_tech, specialised, technology_centre, single_champion, none)'
      )
      ELSE COALESCE("class", 'none')
    END AS "__pl_in_class",
    CAST(COALESCE("charged_rate", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_charged_rate"
  FROM cases
), __pl_1 AS (
  SELECT
    *,
    (
      "__pl_in_in_chengdu" AND (
        "__pl_in_class" <> 'none'
      )
    ) AS "__pl_let_waived"
  FROM __pl_0
), __pl_2 AS (
  SELECT
    *,
    (
      (
        "__pl_in_in_chengdu" AND "__pl_in_private"
      ) AND NOT (
        "__pl_let_waived"
      )
    ) AS "__pl_let_halved"
  FROM __pl_1
), __pl_3 AS (
  SELECT
    *,
    CASE
      WHEN "__pl_let_waived"
      THEN CAST(0 AS DECIMAL(38, 10))
      ELSE CASE
        WHEN "__pl_let_halved"
        THEN CAST(ROUND(CAST(0.005 AS DECIMAL(38, 10)) * CAST(0.5 AS DECIMAL(2, 1)), 10) AS DECIMAL(28, 10))
        ELSE CAST(0.005 AS DECIMAL(38, 10))
      END
    END AS "__pl_let_due_rate",
    CASE
      WHEN (
        "__pl_let_waived" OR "__pl_let_halved"
      )
      THEN "__pl_in_charged_rate"
    END AS "__pl_limit_rate_relief__value"
  FROM __pl_2
), __pl_4 AS (
  SELECT
    *,
    CAST(ROUND(
      CAST("__pl_in_guarantee_amount" AS DECIMAL(38, 10)) * CAST("__pl_let_due_rate" AS DECIMAL(38, 10)),
      10
    ) AS DECIMAL(38, 10)) AS "__pl_let_reguarantee_fee",
    CASE WHEN (
      "__pl_let_waived" OR "__pl_let_halved"
    ) THEN "__pl_let_due_rate" END AS "__pl_limit_rate_relief__bound"
  FROM __pl_3
), __pl_checks AS (
  SELECT
    *,
    CASE
      WHEN (
        "__pl_let_waived" OR "__pl_let_halved"
      )
      THEN (
        "__pl_limit_rate_relief__value" <= "__pl_limit_rate_relief__bound"
      )
      ELSE TRUE
    END AS "rule__rate_relief",
    "__pl_limit_rate_relief__value" AS "rule__rate_relief__value",
    "__pl_limit_rate_relief__bound" AS "rule__rate_relief__bound",
    "__pl_let_waived" AS "waived",
    "__pl_let_halved" AS "halved",
    "__pl_let_due_rate" AS "due_rate",
    CAST("__pl_let_reguarantee_fee" AS DECIMAL(18, 2)) AS "reguarantee_fee"
  FROM __pl_4
)
SELECT
  *
  EXCLUDE ("__pl_in_guarantee_amount", "__pl_in_in_chengdu", "__pl_in_private", "__pl_in_class", "__pl_in_charged_rate", "__pl_let_waived", "__pl_let_halved", "__pl_let_due_rate", "__pl_let_reguarantee_fee", "__pl_limit_rate_relief__value", "__pl_limit_rate_relief__bound"),
  "rule__rate_relief" AS "eligible"
FROM __pl_checks;
