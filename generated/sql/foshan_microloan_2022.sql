-- NOT IN THIS QUERY: monitor compensation_rate (book-level; evaluated by `policylang run --book`)
-- NOT IN THIS QUERY: budget annual_compensation (book-level; evaluated by `policylang run --book`)
WITH __pl_0 AS (
  SELECT
    *,
    CASE
      WHEN "borrower" IS NULL
      THEN ERROR(
        'E602: cases column `borrower`: no value, and the field (borrower_kind) has no default'
      )
      WHEN NOT "borrower" IN ('enterprise', 'individual_business', 'micro_owner')
      THEN ERROR(
        'E604: cases column `borrower`: a value that is not a member of enum `borrower_kind` (members: enterprise, individual_business, micro_owner)'
      )
      ELSE "borrower"
    END AS "__pl_in_borrower",
    COALESCE("first_loan", FALSE) AS "__pl_in_first_loan",
    CASE
      WHEN NOT "purpose" IN ('production', 'no_principal_renewal', 'repay_special_fund', 'other')
      THEN ERROR(
        'E604: cases column `purpose`: a value that is not a member of enum `loan_purpose` (members: production, no_principal_renewal, repay_special_fund, other)'
      )
      ELSE COALESCE("purpose", 'production')
    END AS "__pl_in_purpose",
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
    CASE
      WHEN "interest_rate" IS NULL
      THEN ERROR(
        'E602: cases column `interest_rate`: no value, and the field (percent) has no default'
      )
      ELSE CAST("interest_rate" AS DECIMAL(38, 10))
    END AS "__pl_in_interest_rate",
    CAST(COALESCE("premium_rate", CAST(0.01 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_premium_rate",
    CAST(COALESCE("premium_paid", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_premium_paid",
    CAST(COALESCE("principal_loss", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_principal_loss",
    CASE
      WHEN NOT "insurer" IN ('insurer_a', 'insurer_b', 'insurer_c')
      THEN ERROR(
        'E604: cases column `insurer`: a value that is not a member of enum `insurer_name` (members: insurer_a, insurer_b, insurer_c)'
      )
      ELSE COALESCE("insurer", 'insurer_a')
    END AS "__pl_in_insurer",
    CAST(COALESCE("loan_date", CAST('2022-06-01' AS DATE)) AS DATE) AS "__pl_in_loan_date",
    CAST(COALESCE("compensated", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_compensated",
    INTERVAL '36' MONTH AS "__pl_limit_term_cap__bound",
    CASE
      WHEN ABS((
        CAST(0.037 AS DECIMAL(38, 10)) + CAST(0.015 AS DECIMAL(38, 10))
      )) >= CAST(1000000000000000000 AS DECIMAL(38, 10))
      THEN ERROR('E611: value out of range')
      ELSE (
        CAST(0.037 AS DECIMAL(38, 10)) + CAST(0.015 AS DECIMAL(38, 10))
      )
    END AS "__pl_limit_rate_cap__bound",
    CAST(0.01 AS DECIMAL(38, 10)) AS "__pl_limit_premium_cap__bound"
  FROM cases
), __pl_1 AS (
  SELECT
    *,
    CAST(ROUND(
      CAST(ROUND(
        CAST("__pl_in_loan_amount" AS DECIMAL(38, 10)) * CAST(CASE
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
      ) AS DECIMAL(38, 10)) * CAST(0.01 AS DECIMAL(3, 2)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_let_insurer_subsidy",
    CASE
      WHEN "__pl_in_first_loan"
      THEN LEAST(
        CAST(ROUND(
          CAST(ROUND(
            CAST("__pl_in_loan_amount" AS DECIMAL(38, 10)) * CAST(CASE
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
          ) AS DECIMAL(38, 10)) * CAST(0.01 AS DECIMAL(3, 2)),
          10
        ) AS DECIMAL(28, 10)),
        "__pl_in_premium_paid"
      )
      ELSE CAST(0 AS DECIMAL(38, 10))
    END AS "__pl_let_borrower_subsidy",
    CASE
      WHEN "__pl_in_first_loan"
      THEN "__pl_in_principal_loss"
      ELSE CAST(0 AS DECIMAL(38, 10))
    END AS "__pl_first_loan_loss__given",
    CASE
      WHEN "__pl_in_first_loan"
      THEN "__pl_in_principal_loss"
      ELSE CAST(0 AS DECIMAL(38, 10))
    END AS "__pl_first_loan_burden__given",
    CASE WHEN (
      "__pl_in_borrower" = 'enterprise'
    ) THEN "__pl_in_loan_amount" END AS "__pl_limit_enterprise_cap__value",
    CASE
      WHEN (
        "__pl_in_borrower" = 'enterprise'
      )
      THEN CAST(10000000 AS DECIMAL(38, 10))
    END AS "__pl_limit_enterprise_cap__bound",
    CASE
      WHEN (
        "__pl_in_borrower"
      ) IN ('individual_business', 'micro_owner')
      THEN "__pl_in_loan_amount"
    END AS "__pl_limit_individual_cap__value",
    CASE
      WHEN (
        "__pl_in_borrower"
      ) IN ('individual_business', 'micro_owner')
      THEN CAST(3000000 AS DECIMAL(38, 10))
    END AS "__pl_limit_individual_cap__bound",
    "__pl_in_term" AS "__pl_limit_term_cap__value",
    "__pl_in_interest_rate" AS "__pl_limit_rate_cap__value",
    "__pl_in_premium_rate" AS "__pl_limit_premium_cap__value"
  FROM __pl_0
), __pl_2 AS (
  SELECT
    *,
    CASE
      WHEN "__pl_first_loan_loss__given" <= CAST(-0.005 AS DECIMAL(38, 10))
      THEN ERROR('E611: the allocated amount of first_loan_loss is negative')
      ELSE CAST(ROUND("__pl_first_loan_loss__given", 2) AS DECIMAL(38, 10))
    END AS "__pl_first_loan_loss__amount",
    CASE
      WHEN "__pl_first_loan_burden__given" <= CAST(-0.005 AS DECIMAL(38, 10))
      THEN ERROR('E611: the allocated amount of first_loan_burden is negative')
      ELSE CAST(ROUND("__pl_first_loan_burden__given", 2) AS DECIMAL(38, 10))
    END AS "__pl_first_loan_burden__amount"
  FROM __pl_1
), __pl_3 AS (
  SELECT
    *,
    CAST(ROUND(
      CAST("__pl_first_loan_loss__amount" AS DECIMAL(38, 10)) * CAST(0.1 AS DECIMAL(2, 1)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_first_loan_loss__exact__bank",
    CAST(ROUND(
      CAST("__pl_first_loan_loss__amount" AS DECIMAL(38, 10)) * CAST(0.9 AS DECIMAL(2, 1)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_first_loan_loss__exact__insurer",
    CAST(ROUND(
      CAST("__pl_first_loan_burden__amount" AS DECIMAL(38, 10)) * CAST(0.1 AS DECIMAL(2, 1)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_first_loan_burden__exact__bank",
    CAST(ROUND(
      CAST("__pl_first_loan_burden__amount" AS DECIMAL(38, 10)) * CAST(0.45 AS DECIMAL(3, 2)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_first_loan_burden__exact__insurer",
    CAST(ROUND(
      CAST("__pl_first_loan_burden__amount" AS DECIMAL(38, 10)) * CAST(0.45 AS DECIMAL(3, 2)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_first_loan_burden__exact__fund"
  FROM __pl_2
), __pl_4 AS (
  SELECT
    *,
    CAST(TRUNC("__pl_first_loan_loss__exact__bank", 2) AS DECIMAL(18, 2)) AS "__pl_first_loan_loss__t_0",
    CAST(TRUNC("__pl_first_loan_loss__exact__insurer", 2) AS DECIMAL(18, 2)) AS "__pl_first_loan_loss__t_1",
    CAST(TRUNC("__pl_first_loan_burden__exact__bank", 2) AS DECIMAL(18, 2)) AS "__pl_first_loan_burden__t_0",
    CAST(TRUNC("__pl_first_loan_burden__exact__insurer", 2) AS DECIMAL(18, 2)) AS "__pl_first_loan_burden__t_1",
    CAST(TRUNC("__pl_first_loan_burden__exact__fund", 2) AS DECIMAL(18, 2)) AS "__pl_first_loan_burden__t_2"
  FROM __pl_3
), __pl_5 AS (
  SELECT
    *,
    "__pl_first_loan_loss__exact__bank" - "__pl_first_loan_loss__t_0" AS "__pl_first_loan_loss__r_0",
    "__pl_first_loan_loss__exact__insurer" - "__pl_first_loan_loss__t_1" AS "__pl_first_loan_loss__r_1",
    CAST((
      "__pl_first_loan_loss__amount" - (
        "__pl_first_loan_loss__t_0" + "__pl_first_loan_loss__t_1"
      )
    ) * 100 AS INT) AS "__pl_first_loan_loss__missing",
    "__pl_first_loan_burden__exact__bank" - "__pl_first_loan_burden__t_0" AS "__pl_first_loan_burden__r_0",
    "__pl_first_loan_burden__exact__insurer" - "__pl_first_loan_burden__t_1" AS "__pl_first_loan_burden__r_1",
    "__pl_first_loan_burden__exact__fund" - "__pl_first_loan_burden__t_2" AS "__pl_first_loan_burden__r_2",
    CAST((
      "__pl_first_loan_burden__amount" - (
        "__pl_first_loan_burden__t_0" + "__pl_first_loan_burden__t_1" + "__pl_first_loan_burden__t_2"
      )
    ) * 100 AS INT) AS "__pl_first_loan_burden__missing"
  FROM __pl_4
), __pl_6 AS (
  SELECT
    *,
    "__pl_first_loan_loss__t_0" + CASE
      WHEN (
        CAST("__pl_first_loan_loss__r_1" > "__pl_first_loan_loss__r_0" AS INT)
      ) < "__pl_first_loan_loss__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_first_loan_loss__part__bank",
    "__pl_first_loan_loss__t_1" + CASE
      WHEN (
        CAST("__pl_first_loan_loss__r_0" >= "__pl_first_loan_loss__r_1" AS INT)
      ) < "__pl_first_loan_loss__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_first_loan_loss__part__insurer",
    "__pl_first_loan_burden__t_0" + CASE
      WHEN (
        CAST("__pl_first_loan_burden__r_1" > "__pl_first_loan_burden__r_0" AS INT) + CAST("__pl_first_loan_burden__r_2" > "__pl_first_loan_burden__r_0" AS INT)
      ) < "__pl_first_loan_burden__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_first_loan_burden__part__bank",
    "__pl_first_loan_burden__t_1" + CASE
      WHEN (
        CAST("__pl_first_loan_burden__r_0" >= "__pl_first_loan_burden__r_1" AS INT) + CAST("__pl_first_loan_burden__r_2" > "__pl_first_loan_burden__r_1" AS INT)
      ) < "__pl_first_loan_burden__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_first_loan_burden__part__insurer",
    "__pl_first_loan_burden__t_2" + CASE
      WHEN (
        CAST("__pl_first_loan_burden__r_0" >= "__pl_first_loan_burden__r_2" AS INT) + CAST("__pl_first_loan_burden__r_1" >= "__pl_first_loan_burden__r_2" AS INT)
      ) < "__pl_first_loan_burden__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_first_loan_burden__part__fund"
  FROM __pl_5
), __pl_checks AS (
  SELECT
    *,
    (
      "__pl_in_purpose" <> 'other'
    ) AS "rule__purpose_rule",
    CASE
      WHEN (
        "__pl_in_borrower" = 'enterprise'
      )
      THEN (
        "__pl_limit_enterprise_cap__value" <= "__pl_limit_enterprise_cap__bound"
      )
      ELSE TRUE
    END AS "rule__enterprise_cap",
    CAST("__pl_limit_enterprise_cap__value" AS DECIMAL(18, 2)) AS "rule__enterprise_cap__value",
    CAST("__pl_limit_enterprise_cap__bound" AS DECIMAL(18, 2)) AS "rule__enterprise_cap__bound",
    CASE
      WHEN (
        "__pl_in_borrower"
      ) IN ('individual_business', 'micro_owner')
      THEN (
        "__pl_limit_individual_cap__value" <= "__pl_limit_individual_cap__bound"
      )
      ELSE TRUE
    END AS "rule__individual_cap",
    CAST("__pl_limit_individual_cap__value" AS DECIMAL(18, 2)) AS "rule__individual_cap__value",
    CAST("__pl_limit_individual_cap__bound" AS DECIMAL(18, 2)) AS "rule__individual_cap__bound",
    CASE
      WHEN (
        DATEPART('year', "__pl_limit_term_cap__value") * 12 + DATEPART('month', "__pl_limit_term_cap__value") <> 0
        AND DATEPART('day', "__pl_limit_term_cap__bound") <> 0
      )
      OR (
        DATEPART('day', "__pl_limit_term_cap__value") <> 0
        AND DATEPART('year', "__pl_limit_term_cap__bound") * 12 + DATEPART('month', "__pl_limit_term_cap__bound") <> 0
      )
      THEN ERROR('E611: cannot compare days and months: days are not convertible to months')
      ELSE "__pl_limit_term_cap__value" <= "__pl_limit_term_cap__bound"
    END AS "rule__term_cap",
    "__pl_limit_term_cap__value" AS "rule__term_cap__value",
    "__pl_limit_term_cap__bound" AS "rule__term_cap__bound",
    (
      "__pl_limit_rate_cap__value" <= "__pl_limit_rate_cap__bound"
    ) AS "rule__rate_cap",
    "__pl_limit_rate_cap__value" AS "rule__rate_cap__value",
    "__pl_limit_rate_cap__bound" AS "rule__rate_cap__bound",
    (
      "__pl_limit_premium_cap__value" <= "__pl_limit_premium_cap__bound"
    ) AS "rule__premium_cap",
    "__pl_limit_premium_cap__value" AS "rule__premium_cap__value",
    "__pl_limit_premium_cap__bound" AS "rule__premium_cap__bound",
    CAST("__pl_let_insurer_subsidy" AS DECIMAL(18, 2)) AS "insurer_subsidy",
    CAST("__pl_let_borrower_subsidy" AS DECIMAL(18, 2)) AS "borrower_subsidy",
    CAST("__pl_first_loan_loss__part__bank" AS DECIMAL(18, 2)) AS "first_loan_loss__bank",
    CAST("__pl_first_loan_loss__part__insurer" AS DECIMAL(18, 2)) AS "first_loan_loss__insurer",
    CAST("__pl_first_loan_burden__part__bank" AS DECIMAL(18, 2)) AS "first_loan_burden__bank",
    CAST("__pl_first_loan_burden__part__insurer" AS DECIMAL(18, 2)) AS "first_loan_burden__insurer",
    CAST("__pl_first_loan_burden__part__fund" AS DECIMAL(18, 2)) AS "first_loan_burden__fund"
  FROM __pl_6
)
SELECT
  *
  EXCLUDE ("__pl_in_borrower", "__pl_in_first_loan", "__pl_in_purpose", "__pl_in_loan_amount", "__pl_in_term", "__pl_in_interest_rate", "__pl_in_premium_rate", "__pl_in_premium_paid", "__pl_in_principal_loss", "__pl_in_insurer", "__pl_in_loan_date", "__pl_in_compensated", "__pl_let_insurer_subsidy", "__pl_let_borrower_subsidy", "__pl_first_loan_loss__given", "__pl_first_loan_loss__amount", "__pl_first_loan_loss__exact__bank", "__pl_first_loan_loss__exact__insurer", "__pl_first_loan_loss__t_0", "__pl_first_loan_loss__t_1", "__pl_first_loan_loss__r_0", "__pl_first_loan_loss__r_1", "__pl_first_loan_loss__missing", "__pl_first_loan_loss__part__bank", "__pl_first_loan_loss__part__insurer", "__pl_first_loan_burden__given", "__pl_first_loan_burden__amount", "__pl_first_loan_burden__exact__bank", "__pl_first_loan_burden__exact__insurer", "__pl_first_loan_burden__exact__fund", "__pl_first_loan_burden__t_0", "__pl_first_loan_burden__t_1", "__pl_first_loan_burden__t_2", "__pl_first_loan_burden__r_0", "__pl_first_loan_burden__r_1", "__pl_first_loan_burden__r_2", "__pl_first_loan_burden__missing", "__pl_first_loan_burden__part__bank", "__pl_first_loan_burden__part__insurer", "__pl_first_loan_burden__part__fund", "__pl_limit_enterprise_cap__value", "__pl_limit_enterprise_cap__bound", "__pl_limit_individual_cap__value", "__pl_limit_individual_cap__bound", "__pl_limit_term_cap__value", "__pl_limit_term_cap__bound", "__pl_limit_rate_cap__value", "__pl_limit_rate_cap__bound", "__pl_limit_premium_cap__value", "__pl_limit_premium_cap__bound"),
  "rule__purpose_rule"
  AND "rule__enterprise_cap"
  AND "rule__individual_cap"
  AND "rule__term_cap"
  AND "rule__rate_cap"
  AND "rule__premium_cap" AS "eligible"
FROM __pl_checks;
