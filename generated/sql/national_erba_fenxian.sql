-- NOT IN THIS QUERY: monitor compensation_rate (book-level; evaluated by `policylang run --book`)
WITH __pl_0 AS (
  SELECT
    *,
    CASE
      WHEN NOT "class" IN ('tech_sme', 'innovative_sme', 'little_giant', 'other_tech', 'general')
      THEN ERROR(
        'E604: cases column `class`: a value that is not a member of enum `enterprise_class` (members: tech_sme, innovative_sme, little_giant, other_tech, general)'
      )
      ELSE COALESCE("class", 'general')
    END AS "__pl_in_class",
    CASE
      WHEN "guarantee_amount" IS NULL
      THEN ERROR(
        'E602: cases column `guarantee_amount`: no value, and the field (money) has no default'
      )
      ELSE CAST("guarantee_amount" AS DECIMAL(38, 10))
    END AS "__pl_in_guarantee_amount",
    CAST(COALESCE("bank_share", CAST(0.2 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_bank_share",
    CAST(COALESCE("other_fees", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_other_fees",
    CAST(COALESCE("loss", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_loss",
    CAST(COALESCE("guarantee_date", CAST('2023-06-01' AS DATE)) AS DATE) AS "__pl_in_guarantee_date",
    CAST(COALESCE("compensated", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_compensated",
    CAST(10000000 AS DECIMAL(38, 10)) AS "__pl_limit_household_cap__bound",
    CAST(0.2 AS DECIMAL(38, 10)) AS "__pl_limit_bank_share_floor__bound"
  FROM cases
), __pl_1 AS (
  SELECT
    *,
    CASE
      WHEN "__pl_in_loss" <= CAST(-0.005 AS DECIMAL(38, 10))
      THEN ERROR('E611: the allocated amount of risk is negative')
      ELSE CAST(ROUND("__pl_in_loss", 2) AS DECIMAL(38, 10))
    END AS "__pl_risk__amount",
    "__pl_in_guarantee_amount" AS "__pl_limit_household_cap__value",
    "__pl_in_bank_share" AS "__pl_limit_bank_share_floor__value"
  FROM __pl_0
), __pl_2 AS (
  SELECT
    *,
    CAST(ROUND(CAST("__pl_risk__amount" AS DECIMAL(38, 10)) * CAST(0.2 AS DECIMAL(2, 1)), 10) AS DECIMAL(28, 10)) AS "__pl_risk__exact__bank",
    CAST(ROUND(CAST("__pl_risk__amount" AS DECIMAL(38, 10)) * CAST(0.2 AS DECIMAL(2, 1)), 10) AS DECIMAL(28, 10)) AS "__pl_risk__exact__national_fund",
    CAST(ROUND(CAST("__pl_risk__amount" AS DECIMAL(38, 10)) * CAST(0.2 AS DECIMAL(2, 1)), 10) AS DECIMAL(28, 10)) AS "__pl_risk__exact__provincial",
    CAST(ROUND(CAST("__pl_risk__amount" AS DECIMAL(38, 10)) * CAST(0.4 AS DECIMAL(2, 1)), 10) AS DECIMAL(28, 10)) AS "__pl_risk__exact__city_county"
  FROM __pl_1
), __pl_3 AS (
  SELECT
    *,
    CAST(TRUNC("__pl_risk__exact__bank", 2) AS DECIMAL(18, 2)) AS "__pl_risk__t_0",
    CAST(TRUNC("__pl_risk__exact__national_fund", 2) AS DECIMAL(18, 2)) AS "__pl_risk__t_1",
    CAST(TRUNC("__pl_risk__exact__provincial", 2) AS DECIMAL(18, 2)) AS "__pl_risk__t_2",
    CAST(TRUNC("__pl_risk__exact__city_county", 2) AS DECIMAL(18, 2)) AS "__pl_risk__t_3"
  FROM __pl_2
), __pl_4 AS (
  SELECT
    *,
    "__pl_risk__exact__bank" - "__pl_risk__t_0" AS "__pl_risk__r_0",
    "__pl_risk__exact__national_fund" - "__pl_risk__t_1" AS "__pl_risk__r_1",
    "__pl_risk__exact__provincial" - "__pl_risk__t_2" AS "__pl_risk__r_2",
    "__pl_risk__exact__city_county" - "__pl_risk__t_3" AS "__pl_risk__r_3",
    CAST((
      "__pl_risk__amount" - (
        "__pl_risk__t_0" + "__pl_risk__t_1" + "__pl_risk__t_2" + "__pl_risk__t_3"
      )
    ) * 100 AS INT) AS "__pl_risk__missing"
  FROM __pl_3
), __pl_5 AS (
  SELECT
    *,
    "__pl_risk__t_0" + CASE
      WHEN (
        CAST("__pl_risk__r_1" > "__pl_risk__r_0" AS INT) + CAST("__pl_risk__r_2" > "__pl_risk__r_0" AS INT) + CAST("__pl_risk__r_3" > "__pl_risk__r_0" AS INT)
      ) < "__pl_risk__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_risk__part__bank",
    "__pl_risk__t_1" + CASE
      WHEN (
        CAST("__pl_risk__r_0" >= "__pl_risk__r_1" AS INT) + CAST("__pl_risk__r_2" > "__pl_risk__r_1" AS INT) + CAST("__pl_risk__r_3" > "__pl_risk__r_1" AS INT)
      ) < "__pl_risk__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_risk__part__national_fund",
    "__pl_risk__t_2" + CASE
      WHEN (
        CAST("__pl_risk__r_0" >= "__pl_risk__r_2" AS INT) + CAST("__pl_risk__r_1" >= "__pl_risk__r_2" AS INT) + CAST("__pl_risk__r_3" > "__pl_risk__r_2" AS INT)
      ) < "__pl_risk__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_risk__part__provincial",
    "__pl_risk__t_3" + CASE
      WHEN (
        CAST("__pl_risk__r_0" >= "__pl_risk__r_3" AS INT) + CAST("__pl_risk__r_1" >= "__pl_risk__r_3" AS INT) + CAST("__pl_risk__r_2" >= "__pl_risk__r_3" AS INT)
      ) < "__pl_risk__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_risk__part__city_county"
  FROM __pl_4
), __pl_checks AS (
  SELECT
    *,
    (
      "__pl_limit_household_cap__value" <= "__pl_limit_household_cap__bound"
    ) AS "rule__household_cap",
    CAST("__pl_limit_household_cap__value" AS DECIMAL(18, 2)) AS "rule__household_cap__value",
    CAST("__pl_limit_household_cap__bound" AS DECIMAL(18, 2)) AS "rule__household_cap__bound",
    (
      "__pl_limit_bank_share_floor__value" >= "__pl_limit_bank_share_floor__bound"
    ) AS "rule__bank_share_floor",
    "__pl_limit_bank_share_floor__value" AS "rule__bank_share_floor__value",
    "__pl_limit_bank_share_floor__bound" AS "rule__bank_share_floor__bound",
    CAST("__pl_risk__part__bank" AS DECIMAL(18, 2)) AS "risk__bank",
    CAST("__pl_risk__part__national_fund" AS DECIMAL(18, 2)) AS "risk__national_fund",
    CAST("__pl_risk__part__provincial" AS DECIMAL(18, 2)) AS "risk__provincial",
    CAST("__pl_risk__part__city_county" AS DECIMAL(18, 2)) AS "risk__city_county"
  FROM __pl_5
)
SELECT
  *
  EXCLUDE ("__pl_in_class", "__pl_in_guarantee_amount", "__pl_in_bank_share", "__pl_in_other_fees", "__pl_in_loss", "__pl_in_guarantee_date", "__pl_in_compensated", "__pl_risk__amount", "__pl_risk__exact__bank", "__pl_risk__exact__national_fund", "__pl_risk__exact__provincial", "__pl_risk__exact__city_county", "__pl_risk__t_0", "__pl_risk__t_1", "__pl_risk__t_2", "__pl_risk__t_3", "__pl_risk__r_0", "__pl_risk__r_1", "__pl_risk__r_2", "__pl_risk__r_3", "__pl_risk__missing", "__pl_risk__part__bank", "__pl_risk__part__national_fund", "__pl_risk__part__provincial", "__pl_risk__part__city_county", "__pl_limit_household_cap__value", "__pl_limit_household_cap__bound", "__pl_limit_bank_share_floor__value", "__pl_limit_bank_share_floor__bound"),
  "rule__household_cap" AND "rule__bank_share_floor" AS "eligible"
FROM __pl_checks;
