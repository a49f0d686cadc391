-- NOT IN THIS QUERY: limit collateral_share (book-level; evaluated by `policylang run --book`)
WITH __pl_0 AS (
  SELECT
    *,
    CASE
      WHEN "borrower" IS NULL
      THEN ERROR(
        'E602: cases column `borrower`: no value, and the field (borrower_kind) has no default'
      )
      WHEN NOT "borrower" IN (
        'small_micro',
        'individual',
        'farmer',
        'new_agri',
        'startup',
        'emerging',
        'other'
      )
      THEN ERROR(
        'E604: cases column `borrower`: a value that is not a member of enum `borrower_kind` (members: small_micro, individual, farmer, new_agri, startup, emerging, other)'
      )
      ELSE "borrower"
    END AS "__pl_in_borrower",
    CASE
      WHEN "guarantee_amount" IS NULL
      THEN ERROR(
        'E602: cases column `guarantee_amount`: no value, and the field (money) has no default'
      )
      ELSE CAST("guarantee_amount" AS DECIMAL(38, 10))
    END AS "__pl_in_guarantee_amount",
    CASE
      WHEN NOT "batch" IN ('single', 'national_batch', 'other_batch')
      THEN ERROR(
        'E604: cases column `batch`: a value that is not a member of enum `batch_kind` (members: single, national_batch, other_batch)'
      )
      ELSE COALESCE("batch", 'single')
    END AS "__pl_in_batch",
    CASE
      WHEN "measure" IS NULL
      THEN ERROR(
        'E602: cases column `measure`: no value, and the field (counter_guarantee) has no default'
      )
      WHEN NOT "measure" IN ('none', 'credit', 'surety', 'mortgage', 'pledge')
      THEN ERROR(
        'E604: cases column `measure`: a value that is not a member of enum `counter_guarantee` (members: none, credit, surety, mortgage, pledge)'
      )
      ELSE "measure"
    END AS "__pl_in_measure",
    COALESCE("startup_loan", FALSE) AS "__pl_in_startup_loan",
    COALESCE("newly_issued", FALSE) AS "__pl_in_newly_issued",
    COALESCE("personal_startup", FALSE) AS "__pl_in_personal_startup",
    COALESCE("demonstration_base", FALSE) AS "__pl_in_demonstration_base",
    COALESCE("city_honour", FALSE) AS "__pl_in_city_honour",
    COALESCE("credit_rated", FALSE) AS "__pl_in_credit_rated",
    CAST(COALESCE("collateral_rate", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_collateral_rate",
    CAST(COALESCE("bank_collateral_rate", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_bank_collateral_rate",
    CAST(COALESCE("appraisal_value", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_appraisal_value",
    CAST(COALESCE("deductions", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_deductions",
    CAST(COALESCE("issue_date", CAST('2021-10-01' AS DATE)) AS DATE) AS "__pl_in_issue_date",
    COALESCE("contract_lag", INTERVAL '0' DAY) AS "__pl_in_contract_lag",
    COALESCE("registration_lag", INTERVAL '0' DAY) AS "__pl_in_registration_lag",
    CAST(10000000 AS DECIMAL(38, 10)) AS "__pl_limit_scope_cap__bound"
  FROM cases
), __pl_1 AS (
  SELECT
    *,
    (
      "__pl_in_startup_loan"
      AND (
        (
          (
            (
              (
                "__pl_in_newly_issued" AND "__pl_in_personal_startup"
              )
              AND (
                "__pl_in_guarantee_amount" <= CAST(100000 AS DECIMAL(38, 10))
              )
            )
            OR "__pl_in_demonstration_base"
          )
          OR "__pl_in_city_honour"
        )
        OR "__pl_in_credit_rated"
      )
    ) AS "__pl_let_exempt",
    (
      "__pl_in_measure"
    ) IN ('mortgage', 'pledge') AS "__pl_let_collateral_type",
    CAST(ROUND(
      CAST(GREATEST((
        "__pl_in_appraisal_value" - "__pl_in_deductions"
      ), CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) * CAST("__pl_in_collateral_rate" AS DECIMAL(38, 10)),
      10
    ) AS DECIMAL(38, 10)) AS "__pl_let_mortgage_cap",
    CAST(ROUND(
      CAST("__pl_in_appraisal_value" AS DECIMAL(38, 10)) * CAST("__pl_in_collateral_rate" AS DECIMAL(38, 10)),
      10
    ) AS DECIMAL(38, 10)) AS "__pl_let_pledge_cap",
    "__pl_in_guarantee_amount" AS "__pl_limit_scope_cap__value",
    CASE WHEN (
      "__pl_in_measure" <> 'none'
    ) THEN "__pl_in_contract_lag" END AS "__pl_limit_contract_in_time__value",
    CASE WHEN (
      "__pl_in_measure" <> 'none'
    ) THEN INTERVAL '0' DAY END AS "__pl_limit_contract_in_time__bound"
  FROM __pl_0
), __pl_2 AS (
  SELECT
    *,
    CASE
      WHEN (
        "__pl_in_measure" = 'mortgage'
      )
      THEN "__pl_let_mortgage_cap"
      ELSE CASE
        WHEN (
          "__pl_in_measure" = 'pledge'
        )
        THEN "__pl_let_pledge_cap"
        ELSE CAST(0 AS DECIMAL(38, 10))
      END
    END AS "__pl_let_maximum_secured",
    CASE WHEN "__pl_let_collateral_type" THEN "__pl_in_registration_lag" END AS "__pl_limit_registration_in_time__value",
    CASE WHEN "__pl_let_collateral_type" THEN INTERVAL '0' DAY END AS "__pl_limit_registration_in_time__bound"
  FROM __pl_1
), __pl_checks AS (
  SELECT
    *,
    (
      "__pl_in_borrower" <> 'other'
    ) AS "rule__policy_scope",
    (
      "__pl_limit_scope_cap__value" <= "__pl_limit_scope_cap__bound"
    ) AS "rule__scope_cap",
    CAST("__pl_limit_scope_cap__value" AS DECIMAL(18, 2)) AS "rule__scope_cap__value",
    CAST("__pl_limit_scope_cap__bound" AS DECIMAL(18, 2)) AS "rule__scope_cap__bound",
    CASE WHEN "__pl_let_exempt" THEN (
      "__pl_in_measure" = 'none'
    ) ELSE TRUE END AS "rule__exemption_honoured",
    CASE
      WHEN (
        "__pl_in_batch" = 'national_batch'
      )
      THEN NOT (
        "__pl_let_collateral_type"
      )
      ELSE TRUE
    END AS "rule__no_collateral_national_batch",
    CASE
      WHEN (
        "__pl_in_batch" = 'other_batch'
      )
      THEN NOT (
        "__pl_let_collateral_type"
      )
      ELSE TRUE
    END AS "rule__no_collateral_other_batch",
    CASE
      WHEN "__pl_let_collateral_type"
      THEN (
        "__pl_in_collateral_rate" > "__pl_in_bank_collateral_rate"
      )
      ELSE TRUE
    END AS "rule__collateral_rate_above_bank",
    CASE
      WHEN (
        "__pl_in_measure" <> 'none'
      )
      THEN CASE
        WHEN (
          DATEPART('year', "__pl_limit_contract_in_time__value") * 12 + DATEPART('month', "__pl_limit_contract_in_time__value") <> 0
          AND DATEPART('day', "__pl_limit_contract_in_time__bound") <> 0
        )
        OR (
          DATEPART('day', "__pl_limit_contract_in_time__value") <> 0
          AND DATEPART('year', "__pl_limit_contract_in_time__bound") * 12 + DATEPART('month', "__pl_limit_contract_in_time__bound") <> 0
        )
        THEN ERROR('E611: cannot compare days and months: days are not convertible to months')
        ELSE "__pl_limit_contract_in_time__value" <= "__pl_limit_contract_in_time__bound"
      END
      ELSE TRUE
    END AS "rule__contract_in_time",
    "__pl_limit_contract_in_time__value" AS "rule__contract_in_time__value",
    "__pl_limit_contract_in_time__bound" AS "rule__contract_in_time__bound",
    CASE
      WHEN "__pl_let_collateral_type"
      THEN CASE
        WHEN (
          DATEPART('year', "__pl_limit_registration_in_time__value") * 12 + DATEPART('month', "__pl_limit_registration_in_time__value") <> 0
          AND DATEPART('day', "__pl_limit_registration_in_time__bound") <> 0
        )
        OR (
          DATEPART('day', "__pl_limit_registration_in_time__value") <> 0
          AND DATEPART('year', "__pl_limit_registration_in_time__bound") * 12 + DATEPART('month', "__pl_limit_registration_in_time__bound") <> 0
        )
        THEN ERROR('E611: cannot compare days and months: days are not convertible to months')
        ELSE "__pl_limit_registration_in_time__value" <= "__pl_limit_registration_in_time__bound"
      END
      ELSE TRUE
    END AS "rule__registration_in_time",
    "__pl_limit_registration_in_time__value" AS "rule__registration_in_time__value",
    "__pl_limit_registration_in_time__bound" AS "rule__registration_in_time__bound",
    "__pl_let_exempt" AS "exempt",
    "__pl_let_collateral_type" AS "collateral_type",
    CAST("__pl_let_mortgage_cap" AS DECIMAL(18, 2)) AS "mortgage_cap",
    CAST("__pl_let_pledge_cap" AS DECIMAL(18, 2)) AS "pledge_cap",
    CAST("__pl_let_maximum_secured" AS DECIMAL(18, 2)) AS "maximum_secured"
  FROM __pl_2
)
SELECT
  *
  EXCLUDE ("__pl_in_borrower", "__pl_in_guarantee_amount", "__pl_in_batch", "__pl_in_measure", "__pl_in_startup_loan", "__pl_in_newly_issued", "__pl_in_personal_startup", "__pl_in_demonstration_base", "__pl_in_city_honour", "__pl_in_credit_rated", "__pl_in_collateral_rate", "__pl_in_bank_collateral_rate", "__pl_in_appraisal_value", "__pl_in_deductions", "__pl_in_issue_date", "__pl_in_contract_lag", "__pl_in_registration_lag", "__pl_let_exempt", "__pl_let_collateral_type", "__pl_let_mortgage_cap", "__pl_let_pledge_cap", "__pl_let_maximum_secured", "__pl_limit_scope_cap__value", "__pl_limit_scope_cap__bound", "__pl_limit_contract_in_time__value", "__pl_limit_contract_in_time__bound", "__pl_limit_registration_in_time__value", "__pl_limit_registration_in_time__bound"),
  "rule__policy_scope"
  AND "rule__scope_cap"
  AND "rule__exemption_honoured"
  AND "rule__no_collateral_national_batch"
  AND "rule__no_collateral_other_batch"
  AND "rule__collateral_rate_above_bank"
  AND "rule__contract_in_time"
  AND "rule__registration_in_time" AS "eligible"
FROM __pl_checks;
