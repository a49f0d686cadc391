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
    CASE
      WHEN "guarantee_fee_rate" IS NULL
      THEN ERROR(
        'E602: cases column `guarantee_fee_rate`: no value, and the field (percent) has no default'
      )
      ELSE CAST("guarantee_fee_rate" AS DECIMAL(38, 10))
    END AS "__pl_in_guarantee_fee_rate",
    CASE
      WHEN NOT "enterprise_area" IN (
        'hengyang_nanyue',
        'yueyang_pingjiang',
        'chenzhou_zixing',
        'xiangtan_county',
        'other_area'
      )
      THEN ERROR(
        'E604: cases column `enterprise_area`: a value that is not a member of enum `area` (members: hengyang_nanyue, yueyang_pingjiang, chenzhou_zixing, xiangtan_county, other_area)'
      )
      ELSE COALESCE("enterprise_area", 'other_area')
    END AS "__pl_in_enterprise_area",
    CAST(COALESCE("reguarantee_charged", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_reguarantee_charged"
  FROM cases
), __pl_1 AS (
  SELECT
    *,
    (
      "__pl_in_enterprise_area" <> 'other_area'
    ) AS "__pl_let_severe_area",
    CASE
      WHEN (
        "__pl_in_guarantee_amount" <= CAST(5000000 AS DECIMAL(38, 10))
      )
      THEN "__pl_in_guarantee_fee_rate"
    END AS "__pl_limit_small_fee_cap__value",
    CASE
      WHEN (
        "__pl_in_guarantee_amount" <= CAST(5000000 AS DECIMAL(38, 10))
      )
      THEN CAST(0.005 AS DECIMAL(38, 10))
    END AS "__pl_limit_small_fee_cap__bound",
    CASE
      WHEN (
        "__pl_in_guarantee_amount" > CAST(5000000 AS DECIMAL(38, 10))
      )
      THEN "__pl_in_guarantee_fee_rate"
    END AS "__pl_limit_large_fee_cap__value",
    CASE
      WHEN (
        "__pl_in_guarantee_amount" > CAST(5000000 AS DECIMAL(38, 10))
      )
      THEN CAST(0.0075 AS DECIMAL(38, 10))
    END AS "__pl_limit_large_fee_cap__bound"
  FROM __pl_0
), __pl_2 AS (
  SELECT
    *,
    CASE
      WHEN "__pl_let_severe_area"
      THEN CAST(0 AS DECIMAL(38, 10))
      ELSE CAST(0.005 AS DECIMAL(38, 10))
    END AS "__pl_let_reguarantee_due",
    CASE WHEN "__pl_let_severe_area" THEN "__pl_in_reguarantee_charged" END AS "__pl_limit_reguarantee_waived__value"
  FROM __pl_1
), __pl_3 AS (
  SELECT
    *,
    CAST(ROUND(
      CAST("__pl_in_guarantee_amount" AS DECIMAL(38, 10)) * CAST("__pl_let_reguarantee_due" AS DECIMAL(38, 10)),
      10
    ) AS DECIMAL(38, 10)) AS "__pl_let_reguarantee_fee",
    CASE WHEN "__pl_let_severe_area" THEN "__pl_let_reguarantee_due" END AS "__pl_limit_reguarantee_waived__bound"
  FROM __pl_2
), __pl_checks AS (
  SELECT
    *,
    CASE
      WHEN (
        "__pl_in_guarantee_amount" <= CAST(5000000 AS DECIMAL(38, 10))
      )
      THEN (
        "__pl_limit_small_fee_cap__value" <= "__pl_limit_small_fee_cap__bound"
      )
      ELSE TRUE
    END AS "rule__small_fee_cap",
    "__pl_limit_small_fee_cap__value" AS "rule__small_fee_cap__value",
    "__pl_limit_small_fee_cap__bound" AS "rule__small_fee_cap__bound",
    CASE
      WHEN (
        "__pl_in_guarantee_amount" > CAST(5000000 AS DECIMAL(38, 10))
      )
      THEN (
        "__pl_limit_large_fee_cap__value" <= "__pl_limit_large_fee_cap__bound"
      )
      ELSE TRUE
    END AS "rule__large_fee_cap",
    "__pl_limit_large_fee_cap__value" AS "rule__large_fee_cap__value",
    "__pl_limit_large_fee_cap__bound" AS "rule__large_fee_cap__bound",
    CASE
      WHEN "__pl_let_severe_area"
      THEN (
        "__pl_limit_reguarantee_waived__value" <= "__pl_limit_reguarantee_waived__bound"
      )
      ELSE TRUE
    END AS "rule__reguarantee_waived",
    "__pl_limit_reguarantee_waived__value" AS "rule__reguarantee_waived__value",
    "__pl_limit_reguarantee_waived__bound" AS "rule__reguarantee_waived__bound",
    "__pl_let_severe_area" AS "severe_area",
    "__pl_let_reguarantee_due" AS "reguarantee_due",
    CAST("__pl_let_reguarantee_fee" AS DECIMAL(18, 2)) AS "reguarantee_fee"
  FROM __pl_3
)
SELECT
  *
  EXCLUDE ("__pl_in_guarantee_amount", "__pl_in_guarantee_fee_rate", "__pl_in_enterprise_area", "__pl_in_reguarantee_charged", "__pl_let_severe_area", "__pl_let_reguarantee_due", "__pl_let_reguarantee_fee", "__pl_limit_small_fee_cap__value", "__pl_limit_small_fee_cap__bound", "__pl_limit_large_fee_cap__value", "__pl_limit_large_fee_cap__bound", "__pl_limit_reguarantee_waived__value", "__pl_limit_reguarantee_waived__bound"),
  "rule__small_fee_cap" AND "rule__large_fee_cap" AND "rule__reguarantee_waived" AS "eligible"
FROM __pl_checks;
