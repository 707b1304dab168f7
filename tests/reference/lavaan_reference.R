## lavaan reference values for the Python SEM core (analysis/sem).
##
## Run from the repository root:
##   Rscript tests/reference/lavaan_reference.R > tests/reference/lavaan_reference.Rout 2>&1
##
## Writes the data sets to tests/reference/data/ and one CSV per result to
## tests/reference/lavaan/.  See tests/reference/README.md for every file.
## R is used here only to record reference values; it is never a runtime or
## test dependency of the Python package.

suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
})

set.seed(20240527)

out_data <- file.path("tests", "reference", "data")
out_res <- file.path("tests", "reference", "lavaan")
dir.create(out_data, recursive = TRUE, showWarnings = FALSE)
dir.create(out_res, recursive = TRUE, showWarnings = FALSE)

options(width = 120)

## ---------------------------------------------------------------------------
## helpers
## ---------------------------------------------------------------------------

write_tbl <- function(df, file) {
  # NA written as an empty field; numbers with 15 significant digits.
  utils::write.csv(df, file, row.names = FALSE, na = "")
}

## Merge parameterEstimates() with standardizedSolution()$est.std.
## Extra arguments go to parameterEstimates().
tidy_estimates <- function(fit, ...) {
  pe <- parameterEstimates(fit, ...)
  ss <- standardizedSolution(fit)
  if (!"group" %in% names(pe)) pe$group <- 1L
  if (!"group" %in% names(ss)) ss$group <- 1L
  # ':=' rows carry group 0 in multigroup output; keep lavaan's value.
  if (!"label" %in% names(pe)) pe$label <- ""
  pe$label[is.na(pe$label)] <- ""
  pe$.row <- seq_len(nrow(pe))
  ss <- ss[, c("lhs", "op", "rhs", "group", "est.std")]
  m <- merge(pe, ss, by = c("lhs", "op", "rhs", "group"), all.x = TRUE, sort = FALSE)
  m <- m[order(m$.row), ]
  names(m)[names(m) == "ci.lower"] <- "ci_lower"
  names(m)[names(m) == "ci.upper"] <- "ci_upper"
  names(m)[names(m) == "est.std"] <- "std_all"
  cols <- c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue",
            "ci_lower", "ci_upper", "std_all")
  m <- m[, cols]
  rownames(m) <- NULL
  m
}

tidy_fit <- function(fit) {
  fm <- fitMeasures(fit)
  data.frame(measure = names(fm), value = as.numeric(fm), stringsAsFactors = FALSE)
}

## one row per case: the options lavaan actually used (collected in `cases`)
cases <- list()
case_row <- function(fit, case) {
  o <- lavInspect(fit, "options")
  data.frame(
    case = case,
    converged = lavInspect(fit, "converged"),
    nobs = sum(unlist(lavInspect(fit, "nobs"))),
    ngroups = lavInspect(fit, "ngroups"),
    estimator = o$estimator,
    se = o$se,
    test = paste(o$test, collapse = "+"),
    information = o$information[1],
    h1_information = o$h1.information[1],
    observed_information = o$observed.information[1],
    missing = o$missing,
    meanstructure = o$meanstructure,
    std_lv = o$std.lv,
    parameterization = o$parameterization,
    group_equal = paste(o$group.equal, collapse = "+"),
    npar = unname(fitMeasures(fit, "npar")),
    stringsAsFactors = FALSE)
}

record <- function(fit, case, keys = c("chisq", "df", "pvalue", "cfi", "tli",
                                       "rmsea", "srmr", "loglik", "aic", "bic"),
                   est = NULL) {
  if (is.null(est)) est <- tidy_estimates(fit)
  fm <- tidy_fit(fit)
  write_tbl(est, file.path(out_res, paste0(case, "_estimates.csv")))
  write_tbl(fm, file.path(out_res, paste0(case, "_fit.csv")))
  cases[[case]] <<- case_row(fit, case)
  cat("\n=====================================================================\n")
  cat("case:", case, "\n")
  cat("converged:", lavInspect(fit, "converged"),
      " nobs:", paste(lavInspect(fit, "nobs"), collapse = ","),
      " estimator:", lavInspect(fit, "options")$estimator,
      " se:", lavInspect(fit, "options")$se,
      " test:", paste(lavInspect(fit, "options")$test, collapse = ","), "\n")
  keys <- intersect(keys, fm$measure)
  print(round(fitMeasures(fit, keys), 6))
  cat("rows in estimates:", nrow(est), " fit measures:", nrow(fm), "\n")
  print(head(est, 12), digits = 6)
  invisible(est)
}

## ---------------------------------------------------------------------------
## 1. data sets
## ---------------------------------------------------------------------------

HS <- lavaan::HolzingerSwineford1939
PD <- lavaan::PoliticalDemocracy
xs <- paste0("x", 1:9)

write_tbl(HS, file.path(out_data, "HolzingerSwineford1939.csv"))
write_tbl(PD, file.path(out_data, "PoliticalDemocracy.csv"))

## HS_missing: MAR missingness.  x1, x4, x7 (and school) always observed.
## For each factor block (x1 -> x2, x3; x4 -> x5, x6; x7 -> x8, x9) the two
## dependent indicators go missing independently with probability
##   p = plogis(-2.2 + 1.2 * z),  z = standardized driver (x1, x4 or x7),
## so high scorers on the driver lose values more often (about 15% of each
## dependent indicator, about 10% of all x1..x9 values).
HSm <- HS[, c(xs, "school")]
drivers <- list(x1 = c("x2", "x3"), x4 = c("x5", "x6"), x7 = c("x8", "x9"))
for (d in names(drivers)) {
  z <- as.numeric(scale(HS[[d]]))
  p <- plogis(-2.2 + 1.2 * z)
  for (v in drivers[[d]]) {
    miss <- stats::runif(nrow(HS)) < p
    HSm[[v]][miss] <- NA
  }
}
write_tbl(HSm, file.path(out_data, "HS_missing.csv"))
cat("HS_missing: share of x1..x9 values missing =",
    round(mean(is.na(HSm[, xs])), 4), "\n")
print(round(colMeans(is.na(HSm[, xs])), 4))

## HS_ordinal: each x cut at its 25/50/75% sample quantiles (type 7, numpy's
## default 'linear'); category = 1 + number of cut points strictly below x,
## i.e. x <= q25 -> 1, q25 < x <= q50 -> 2, q50 < x <= q75 -> 3, x > q75 -> 4.
HSo <- HS[, c(xs, "school")]
cuts <- list()
for (v in xs) {
  q <- stats::quantile(HS[[v]], c(0.25, 0.50, 0.75), type = 7, names = FALSE)
  cuts[[v]] <- q
  HSo[[v]] <- as.integer(findInterval(HS[[v]], q, left.open = TRUE) + 1L)
}
write_tbl(HSo, file.path(out_data, "HS_ordinal.csv"))
cat("HS_ordinal category counts:\n")
print(sapply(HSo[, xs], function(x) table(factor(x, levels = 1:4))))

## read back the CSVs so every model is fitted on exactly what Python reads
HS <- utils::read.csv(file.path(out_data, "HolzingerSwineford1939.csv"))
PD <- utils::read.csv(file.path(out_data, "PoliticalDemocracy.csv"))
HSm <- utils::read.csv(file.path(out_data, "HS_missing.csv"))
HSo <- utils::read.csv(file.path(out_data, "HS_ordinal.csv"))

## ---------------------------------------------------------------------------
## 2. models
## ---------------------------------------------------------------------------

hs_model <- ' visual  =~ x1 + x2 + x3
              textual =~ x4 + x5 + x6
              speed   =~ x7 + x8 + x9 '

hs_model_2nd <- paste(hs_model, "\n g =~ visual + textual + speed")

pd_model <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
'

pd_model_ind <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  ind := a*b
  total := c + a*b
'

pd_model_eq <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
'

## ---- priority cases -------------------------------------------------------

fit_hs <- cfa(hs_model, data = HS)
record(fit_hs, "hs_cfa")

fit_pd <- sem(pd_model, data = PD)
record(fit_pd, "poldem_sem")

fit_pd_ind <- sem(pd_model_ind, data = PD)
record(fit_pd_ind, "poldem_ind")
cat("defined parameters (delta method):\n")
e <- tidy_estimates(fit_pd_ind)
print(e[e$op == ":=", ], digits = 6)

fit_config <- cfa(hs_model, data = HS, group = "school")
fit_metric <- cfa(hs_model, data = HS, group = "school", group.equal = "loadings")
fit_scalar <- cfa(hs_model, data = HS, group = "school",
                  group.equal = c("loadings", "intercepts"))
fit_strict <- cfa(hs_model, data = HS, group = "school",
                  group.equal = c("loadings", "intercepts", "residuals"))
cat("\ngroup labels (group 1, group 2):",
    paste(lavInspect(fit_config, "group.label"), collapse = ", "), "\n")
record(fit_config, "hs_config")
record(fit_metric, "hs_metric")
record(fit_scalar, "hs_scalar")
record(fit_strict, "hs_strict")

lrt <- lavTestLRT(fit_config, fit_metric, fit_scalar, fit_strict)
lrt_df <- data.frame(model = c("config", "metric", "scalar", "strict"),
                     as.data.frame(lrt), check.names = FALSE)
rownames(lrt_df) <- NULL
write_tbl(lrt_df, file.path(out_res, "hs_invariance_lrt.csv"))
cat("\nlavTestLRT(config, metric, scalar, strict):\n")
print(lrt)

## ---- further ML cases -----------------------------------------------------

fit_hs_stdlv <- cfa(hs_model, data = HS, std.lv = TRUE)
record(fit_hs_stdlv, "hs_cfa_stdlv")

fit_hs_ms <- cfa(hs_model, data = HS, meanstructure = TRUE)
record(fit_hs_ms, "hs_cfa_meanstructure",
       keys = c("chisq", "df", "cfi", "rmsea", "srmr", "srmr_bentler",
                "srmr_bentler_nomean", "srmr_mplus", "srmr_mplus_nomean",
                "crmr", "crmr_nomean", "aic", "bic", "npar"))

fit_hs_2nd <- cfa(hs_model_2nd, data = HS)
record(fit_hs_2nd, "hs_second_order")

fit_pd_eq <- sem(pd_model_eq, data = PD)
record(fit_pd_eq, "poldem_labels_equal")

## modification indices of hs_cfa, all rows, sorted by mi decreasing
mi <- modindices(fit_hs, sort. = TRUE)
mi <- as.data.frame(mi)[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv",
                            "sepc.all", "sepc.nox")]
rownames(mi) <- NULL
write_tbl(mi, file.path(out_res, "hs_cfa_modindices.csv"))
cat("\nmodindices(hs_cfa), top 10 of", nrow(mi), "rows:\n")
print(head(mi, 10), digits = 6)

## ---- missing data (FIML) --------------------------------------------------

fit_fiml <- cfa(hs_model, data = HSm, missing = "fiml")
record(fit_fiml, "hs_fiml",
       keys = c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr",
                "logl", "unrestricted.logl", "aic", "bic", "baseline.chisq",
                "baseline.df", "npar", "ntotal"))
cat("missing patterns:", nrow(lavInspect(fit_fiml, "patterns")), "\n")

## ---- robust ML ------------------------------------------------------------

mlr_keys <- c("chisq", "df", "chisq.scaled", "df.scaled", "pvalue.scaled",
              "chisq.scaling.factor", "cfi", "cfi.scaled", "cfi.robust",
              "tli", "tli.scaled", "tli.robust", "rmsea", "rmsea.scaled",
              "rmsea.robust", "srmr", "logl", "aic", "bic")
fit_mlr <- cfa(hs_model, data = HS, estimator = "MLR")
record(fit_mlr, "hs_mlr", keys = mlr_keys)

fit_mlr_fiml <- cfa(hs_model, data = HSm, estimator = "MLR", missing = "fiml")
record(fit_mlr_fiml, "hs_mlr_fiml", keys = mlr_keys)

## ---- ordinal: WLSMV and DWLS ---------------------------------------------

fit_wlsmv <- cfa(hs_model, data = HSo, ordered = xs, estimator = "WLSMV")
record(fit_wlsmv, "hs_wlsmv",
       keys = c("chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
                "pvalue.scaled", "chisq.scaling.factor", "chisq.shift.parameters",
                "cfi", "cfi.scaled", "tli", "tli.scaled", "rmsea",
                "rmsea.scaled", "srmr", "wrmr", "npar"))

fit_dwls <- cfa(hs_model, data = HSo, ordered = xs, estimator = "DWLS")
record(fit_dwls, "hs_dwls",
       keys = c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "npar"))

## sample statistics of the ordinal data: polychoric correlations, thresholds
pc_fit <- lavCor(HSo[, xs], ordered = xs, output = "fit")
pc <- lavInspect(pc_fit, "sampstat")
poly <- as.matrix(unclass(pc$cov))
poly_df <- data.frame(variable = rownames(poly), poly, check.names = FALSE)
rownames(poly_df) <- NULL
write_tbl(poly_df, file.path(out_res, "hs_ordinal_polychoric.csv"))
th <- pc$th
th_df <- data.frame(
  threshold = names(th),
  variable = sub("\\|t[0-9]+$", "", names(th)),
  index = as.integer(sub("^.*\\|t", "", names(th))),
  value = as.numeric(th), stringsAsFactors = FALSE)
write_tbl(th_df, file.path(out_res, "hs_ordinal_thresholds.csv"))
cat("\npolychoric correlations (lavCor):\n")
print(round(poly, 4))
cat("thresholds:\n")
print(round(th, 4))

## asymptotic covariance of the sample statistics (thresholds, then the
## polychoric correlations below the diagonal, column by column)
gam <- lavInspect(fit_wlsmv, "gamma")
wv <- lavInspect(fit_wlsmv, "wls.v")
wobs <- lavInspect(fit_wlsmv, "wls.obs")
nm <- names(wobs)
if (is.null(nm)) {
  nm <- c(names(th),
          apply(which(lower.tri(poly), arr.ind = TRUE), 1,
                function(ij) paste0(xs[ij[2]], "~~", xs[ij[1]])))
}
nacov_df <- data.frame(
  element = nm,
  wls_obs = as.numeric(wobs),
  gamma_diag = as.numeric(diag(as.matrix(gam))),
  wls_v_diag = as.numeric(diag(as.matrix(wv))),
  stringsAsFactors = FALSE)
write_tbl(nacov_df, file.path(out_res, "hs_wlsmv_nacov_diag.csv"))
cat("\nWLSMV: wls.obs / gamma diag / wls.v diag (first 12 of", nrow(nacov_df), "):\n")
print(head(nacov_df, 12), digits = 6)
cat("max |1/gamma_diag - wls_v_diag| :",
    max(abs(1 / nacov_df$gamma_diag - nacov_df$wls_v_diag)), "\n")

## ---- bootstrap (slowest: last) -------------------------------------------

set.seed(4100)
boot_time <- system.time(
  fit_boot <- sem(pd_model_ind, data = PD, se = "bootstrap", bootstrap = 5000)
)
boot_perc <- tidy_estimates(fit_boot, boot.ci.type = "perc")
boot_bca <- parameterEstimates(fit_boot, boot.ci.type = "bca.simple")
stopifnot(nrow(boot_bca) == nrow(boot_perc))
boot_perc$ci_lower_bca <- boot_bca$ci.lower
boot_perc$ci_upper_bca <- boot_bca$ci.upper
record(fit_boot, "poldem_boot", est = boot_perc)
bmat <- lavInspect(fit_boot, "boot")
err_idx <- attr(bmat, "error.idx")
n_failed <- length(err_idx)
## draws whose solution has a negative variance (lavaan keeps them and warns)
pt <- parTable(fit_boot)
free_var <- pt$free[pt$free > 0 & pt$op == "~~" & pt$lhs == pt$rhs]
n_nonadm <- sum(apply(bmat[, free_var, drop = FALSE] < 0, 1, any))
## lavaan's own post-check (negative variances or non-positive-definite
## covariance matrices), the count in its warning
n_lavaan_nonadm <- length(attr(bmat, "nonadmissible"))
boot_info <- data.frame(
  measure = c("bootstrap_requested", "bootstrap_successful", "bootstrap_failed",
              "bootstrap_negative_variance", "bootstrap_nonadmissible_lavaan",
              "seed", "elapsed_seconds", "user_seconds"),
  value = c(5000, nrow(bmat), n_failed, n_nonadm, n_lavaan_nonadm, 4100,
            unname(boot_time["elapsed"]), unname(boot_time["user.self"])))
write_tbl(boot_info, file.path(out_res, "poldem_boot_info.csv"))
cat("\nbootstrap: rows =", nrow(bmat), " failed =", n_failed,
    " with a negative variance =", n_nonadm,
    " nonadmissible (lavaan) =", n_lavaan_nonadm,
    " elapsed =", round(boot_time["elapsed"], 1), "s\n")
print(boot_perc[boot_perc$op %in% c("~", ":="), ], digits = 6)

cases_df <- do.call(rbind, cases)
rownames(cases_df) <- NULL
write_tbl(cases_df, file.path(out_res, "cases.csv"))
cat("\noptions lavaan used per case (cases.csv):\n")
print(cases_df)

## ---------------------------------------------------------------------------
## 3. provenance
## ---------------------------------------------------------------------------

cat("\n=====================================================================\n")
cat("lavaan", as.character(packageVersion("lavaan")),
    " semTools", as.character(packageVersion("semTools")), "\n")
print(sessionInfo())
