WITH __pl_0 AS (
  SELECT
    *,
    CASE
      WHEN "credit_line" IS NULL
      THEN ERROR(
        'E602: cases column `credit_line`: no value, and the field (money) has no default'
      )
      ELSE CAST("credit_line" AS DECIMAL(38, 10))
    END AS "__pl_in_credit_line",
    CASE
      WHEN NOT "measure" IN ('credit', 'surety', 'collateral')
      THEN ERROR(
        'E604: cases column `measure`: a value that is not a member of enum `counter_guarantee` (members: credit, surety, collateral)'
      )
      ELSE COALESCE("measure", 'credit')
    END AS "__pl_in_measure",
    CAST(COALESCE("fee_rate", CAST(0.01 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_fee_rate",
    CASE
      WHEN "loan_amount" IS NULL
      THEN ERROR(
        'E602: cases column `loan_amount`: no value, and the field (money) has no default'
      )
      ELSE CAST("loan_amount" AS DECIMAL(38, 10))
    END AS "__pl_in_loan_amount",
    CASE
      WHEN "term" IS NULL
      THEN ERROR('E602: cases column `term`: no value, and the field (duration) has no default')
      ELSE "term"
    END AS "__pl_in_term",
    CAST(5000000 AS DECIMAL(38, 10)) AS "__pl_limit_line_cap__bound",
    CAST(0.01 AS DECIMAL(38, 10)) AS "__pl_limit_fee_cap__bound"
  FROM cases
), __pl_1 AS (
  SELECT
    *,
    CAST(ROUND(
      CAST(ROUND(
        CAST("__pl_in_loan_amount" AS DECIMAL(38, 10)) * CAST("__pl_in_fee_rate" AS DECIMAL(38, 10)),
        10
      ) AS DECIMAL(38, 10)) * CAST(CASE
        WHEN DATEPART('day', "__pl_in_term") <> 0
        THEN ERROR('E611: years() of days: days are not convertible to months')
        ELSE CAST(CAST(SIGN(
          CAST(DATEPART('year', "__pl_in_term") * 12 + DATEPART('month', "__pl_in_term") AS INT128)
        ) * (
          (
            ABS(
              CAST(DATEPART('year', "__pl_in_term") * 12 + DATEPART('month', "__pl_in_term") AS INT128)
            ) * CAST(5000000000 AS INT128) + CAST(3 AS INT128)
          ) // CAST(6 AS INT128)
        ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10))
      END AS DECIMAL(38, 10)),
      10
    ) AS DECIMAL(38, 10)) AS "__pl_let_guarantee_fee",
    "__pl_in_credit_line" AS "__pl_limit_line_cap__value",
    "__pl_in_loan_amount" AS "__pl_limit_drawn_within_line__value",
    "__pl_in_credit_line" AS "__pl_limit_drawn_within_line__bound",
    "__pl_in_fee_rate" AS "__pl_limit_fee_cap__value"
  FROM __pl_0
), __pl_checks AS (
  SELECT
    *,
    (
      "__pl_in_measure" = 'credit'
    ) AS "rule__credit_only",
    (
      "__pl_limit_line_cap__value" <= "__pl_limit_line_cap__bound"
    ) AS "rule__line_cap",
    CAST("__pl_limit_line_cap__value" AS DECIMAL(18, 2)) AS "rule__line_cap__value",
    CAST("__pl_limit_line_cap__bound" AS DECIMAL(18, 2)) AS "rule__line_cap__bound",
    (
      "__pl_limit_drawn_within_line__value" <= "__pl_limit_drawn_within_line__bound"
    ) AS "rule__drawn_within_line",
    CAST("__pl_limit_drawn_within_line__value" AS DECIMAL(18, 2)) AS "rule__drawn_within_line__value",
    CAST("__pl_limit_drawn_within_line__bound" AS DECIMAL(18, 2)) AS "rule__drawn_within_line__bound",
    (
      "__pl_limit_fee_cap__value" <= "__pl_limit_fee_cap__bound"
    ) AS "rule__fee_cap",
    "__pl_limit_fee_cap__value" AS "rule__fee_cap__value",
    "__pl_limit_fee_cap__bound" AS "rule__fee_cap__bound",
    CAST("__pl_let_guarantee_fee" AS DECIMAL(18, 2)) AS "guarantee_fee"
  FROM __pl_1
)
SELECT
  *
  EXCLUDE ("__pl_in_credit_line", "__pl_in_measure", "__pl_in_fee_rate", "__pl_in_loan_amount", "__pl_in_term", "__pl_let_guarantee_fee", "__pl_limit_line_cap__value", "__pl_limit_line_cap__bound", "__pl_limit_drawn_within_line__value", "__pl_limit_drawn_within_line__bound", "__pl_limit_fee_cap__value", "__pl_limit_fee_cap__bound"),
  "rule__credit_only"
  AND "rule__line_cap"
  AND "rule__drawn_within_line"
  AND "rule__fee_cap" AS "eligible"
FROM __pl_checks;
