## lavaan 0.6.14 reference values for two gaps of the SEM core (project issue 14, point 3):
##
##  (1) estimator = "WLSMV" WITHOUT `ordered` (continuous indicators: DWLS on the
##      covariance matrix, robust SEs, scaled-shifted test) and WITH a mixture of
##      ordered and continuous indicators (thresholds, means, variances,
##      polychoric / polyserial / Pearson correlations; muthen1984 Gamma);
##      lavaan's warning for an ordered variable with more than 12 levels;
##  (2) two-level models whose variables are observed at one level only
##      (within-only covariates at level 1, cluster-level covariates at level 2).
##
## Run from the repository root:
##   Rscript tests/reference/lavaan_wlsmv_twolevel_extra.R > tests/reference/lavaan_wlsmv_twolevel_extra.Rout 2>&1
##
## Reads  tests/reference/data/HolzingerSwineford1939.csv, HS_ordinal.csv,
##        Demo_twolevel.csv (lavaan's Demo.twolevel, written by lavaan_twolevel.R).
## Writes tests/reference/data/HS_mixed.csv: HS x1..x3 as the 4-category codes
##        of HS_ordinal.csv, x4..x9 continuous (HS), school, and x6c = x6 cut
##        into 14 ordered categories (rank of x6, ties by first appearance,
##        cut into 14 equal-width rank intervals; 21-22 rows per category).
##        tests/reference/lavaan/wlsmvtl_<case>_{estimates,fit}.csv,
##        wlsmvtl_<case>_wls.csv (WLS statistics: name, wls_obs, gamma_diag)
##        for the single-level cases, wlsmvtl_hs_{cont,mixed}_modindices.csv
##        (modindices(): lhs, op, rhs, mi, epc, sepc.lv, sepc.all, sepc.nox) and
##        wlsmvtl_cases.csv (options lavaan used).
## R is used only to record reference values; it is never a runtime or test
## dependency. The script is deterministic (no random numbers).
##
## Cases (single level; model HS = visual =~ x1+x2+x3; textual =~ x4+x5+x6; speed =~ x7+x8+x9)
##   hs_cont        cfa(HS, HS data, estimator = "WLSMV"): continuous indicators;
##                  lavaan: DWLS on vech(S) (S with divisor N - 1), W = 1/diag(Gamma)
##                  (Gamma: ADF, divisor N), se = robust.sem, test = scaled.shifted,
##                  meanstructure = FALSE
##   hs_cont_group  the same with group = "school" (meanstructure switched on by
##                  the groups: means in WLS.obs and in Gamma)
##   hs_cont_sem    a structural model with labels and := on the continuous HS data
##   hs_cont_x      visual =~ x1+x2+x3; textual =~ x4+x5+x6; visual + textual ~ sex + ageyr
##                  (fixed.x: the moments of sex and ageyr fixed at their sample values,
##                  Gamma of the moments residualized on them, weight 0 for their own)
##   hs_cont_dwls   hs_cont with estimator = "DWLS" (standard SEs and test)
##   hs_mixed       HS_mixed: x1..x3 ordered, x4..x9 continuous (polychoric,
##                  polyserial and Pearson entries; means and variances of the
##                  continuous indicators in WLS.obs; delta parameterization)
##   hs_mixed_many  HS_mixed: visual =~ x1+x2+x3; textual =~ x4+x5+x6c with
##                  x1..x3 and x6c ordered; x6c has 14 levels: lavaan warns
##                  "some ordered categorical variable(s) have more than 12 levels: x6c"
##   hs_mixed_group hs_mixed with group = "school" (thresholds, intercepts, variances
##                  and the other parameters free per group)
## Cases (two-level, Demo.twolevel; x1..x3 within-only, w1, w2 between-only)
##   tl_simple      level 1: y1 ~ x1; level 2: y1 ~ w1 (df = 0)
##   tl_demo        lavaan's tutorial: level 1: fw =~ y1+y2+y3; fw ~ x1+x2+x3;
##                  level 2: fb =~ y1+y2+y3; fb ~ w1+w2 (df = 10)
##   tl_roles       a within-only indicator (x2, free level-1 intercept) and a
##                  between-only dependent variable (w2):
##                  level 1: fw =~ y1+y2+y3+x2; fw ~ x1;
##                  level 2: fb =~ y1+y2+y3; fb ~ w1; w2 ~ fb (df = 10)
##   tl_demo_freex  tl_demo with fixed.x = FALSE
## The two-level fits use lavaan's defaults for level: models (observed
## information, see wlsmvtl_cases.csv). For the precision of lavaan's two-level
## optimum see the header of lavaan_twolevel.R.

suppressPackageStartupMessages(library(lavaan))
options(width = 120)
cat("R", R.version$major, ".", R.version$minor, " lavaan ", as.character(packageVersion("lavaan")), "\n", sep = "")

out_data <- file.path("tests", "reference", "data")
out_res <- file.path("tests", "reference", "lavaan")
write_tbl <- function(df, file) utils::write.csv(df, file, row.names = FALSE, na = "")
num15 <- function(df) {
  for (nm in names(df)) if (is.double(df[[nm]])) df[[nm]] <- signif(df[[nm]], 15)
  df
}

## parameterEstimates() merged with standardizedSolution()$est.std, as in
## lavaan_twolevel.R: two-level fits have columns lhs, op, rhs, block, level,
## group (1), label, ...; single-level fits lhs, op, rhs, group, label, ...
## (':=' rows: block = level = 0; group = 0 in multigroup fits, as lavaan).
tidy_estimates <- function(fit) {
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  twolevel <- "level" %in% names(pe)
  if (!"group" %in% names(pe)) pe$group <- 1L
  if (twolevel) {
    pe$group <- 1L
    pe$block[pe$op == ":="] <- 0L
    pe$level[pe$op == ":="] <- 0L
  }
  if (!"label" %in% names(pe)) pe$label <- ""
  pe$label[is.na(pe$label)] <- ""
  stopifnot(nrow(ss) == nrow(pe), all(ss$lhs == pe$lhs), all(ss$op == pe$op),
            all(ss$rhs == pe$rhs))
  pe$std_all <- ss$est.std
  names(pe)[names(pe) == "ci.lower"] <- "ci_lower"
  names(pe)[names(pe) == "ci.upper"] <- "ci_upper"
  cols <- c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue",
            "ci_lower", "ci_upper", "std_all")
  if (twolevel) cols <- c("lhs", "op", "rhs", "block", "level", cols[-(1:3)])
  m <- pe[, cols]
  rownames(m) <- NULL
  num15(as.data.frame(m))
}

cases <- list()
record <- function(fit, case, wls = FALSE, warnings = character(0)) {
  est <- tidy_estimates(fit)
  fm <- fitMeasures(fit)
  write_tbl(est, file.path(out_res, paste0("wlsmvtl_", case, "_estimates.csv")))
  write_tbl(data.frame(measure = names(fm), value = signif(as.numeric(fm), 15)),
            file.path(out_res, paste0("wlsmvtl_", case, "_fit.csv")))
  o <- lavInspect(fit, "options")
  info <- data.frame(case = case, converged = lavInspect(fit, "converged"),
                     iterations = lavInspect(fit, "iterations"),
                     nobs = sum(unlist(lavInspect(fit, "nobs"))),
                     ngroups = lavInspect(fit, "ngroups"),
                     nlevels = fit@Data@nlevels,
                     estimator = o$estimator, se = o$se,
                     test = paste(o$test, collapse = ","),
                     information = paste(o$information, collapse = ","),
                     h1_information = paste(o$h1.information, collapse = ","),
                     observed_information = paste(o$observed.information, collapse = ","),
                     meanstructure = o$meanstructure, fixed_x = o$fixed.x,
                     ordered = paste(lavNames(fit, "ov.ord"), collapse = ","),
                     npar = unname(fm["npar"]),
                     warnings = paste(warnings, collapse = " | "))
  cases[[case]] <<- info
  cat("\n=====================================================================\n")
  cat("case: wlsmvtl_", case, "\n", sep = "")
  print(t(info))
  keys <- c("npar", "fmin", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
            "chisq.scaling.factor", "chisq.shift.parameters", "baseline.chisq", "baseline.df",
            "baseline.chisq.scaled", "cfi", "tli", "cfi.scaled", "rmsea", "rmsea.scaled",
            "srmr", "srmr_within", "srmr_between", "logl", "unrestricted.logl", "aic", "bic",
            "ntotal")
  print(fm[intersect(keys, names(fm))], digits = 12)
  print(est, digits = 8)
  if (wls) {
    G <- lavInspect(fit, "gamma")
    W <- lavInspect(fit, "wls.obs")
    if (!is.list(G)) { G <- list(G); W <- list(W) }
    tab <- do.call(rbind, lapply(seq_along(G), function(g)
      data.frame(group = g, name = names(W[[g]]), wls_obs = unname(W[[g]]),
                 gamma_diag = unname(diag(G[[g]])))))
    write_tbl(num15(tab), file.path(out_res, paste0("wlsmvtl_", case, "_wls.csv")))
    cat("WLS.obs and diag(Gamma) (first rows):\n")
    print(head(tab, 20), digits = 10)
  }
}

## run a fit and keep its warnings (printed here and stored in wlsmvtl_cases.csv)
with_warnings <- function(expr) {
  w <- character(0)
  val <- withCallingHandlers(expr, warning = function(cond) {
    w <<- c(w, gsub("[[:space:]]+", " ", conditionMessage(cond)))
    invokeRestart("muffleWarning")
  })
  if (length(w)) cat("WARNINGS:\n", paste0("  ", w, "\n"), sep = "")
  list(fit = val, warnings = w)
}

## ---------------------------------------------------------------- data
HS <- utils::read.csv(file.path(out_data, "HolzingerSwineford1939.csv"))
HSO <- utils::read.csv(file.path(out_data, "HS_ordinal.csv"))
stopifnot(nrow(HS) == nrow(HSO))
MIX <- data.frame(x1 = HSO$x1, x2 = HSO$x2, x3 = HSO$x3,
                  x4 = HS$x4, x5 = HS$x5, x6 = HS$x6, x7 = HS$x7, x8 = HS$x8, x9 = HS$x9,
                  school = HS$school)
MIX$x6c <- as.integer(cut(rank(HS$x6, ties.method = "first"), 14))
write_tbl(MIX, file.path(out_data, "HS_mixed.csv"))
MIX <- utils::read.csv(file.path(out_data, "HS_mixed.csv"))
cat("HS_mixed:", nrow(MIX), "rows; x6c levels:", length(unique(MIX$x6c)), "\n")
print(table(MIX$x6c))
Demo <- utils::read.csv(file.path(out_data, "Demo_twolevel.csv"))
cat("Demo.twolevel:", nrow(Demo), "rows,", length(unique(Demo$cluster)), "clusters\n")

HSm <- '
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
'

## ---------------------------------------------------------------- (1) WLSMV, continuous
fit_cont <- cfa(HSm, data = HS, estimator = "WLSMV")
record(fit_cont, "hs_cont", wls = TRUE)
write_mi <- function(fit, case) {
  mi <- modindices(fit)
  mi <- num15(mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox")])
  write_tbl(mi, file.path(out_res, paste0("wlsmvtl_", case, "_modindices.csv")))
  cat("modindices (largest 5):\n")
  print(head(mi[order(-mi$mi), ], 5), digits = 8)
}
write_mi(fit_cont, "hs_cont")
record(cfa(HSm, data = HS, estimator = "WLSMV", group = "school"), "hs_cont_group", wls = TRUE)
HSsem <- '
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
textual ~ a*visual
speed ~ b*textual + visual
x2 ~~ x3
ab := a*b
'
record(sem(HSsem, data = HS, estimator = "WLSMV"), "hs_cont_sem")
record(sem('visual  =~ x1 + x2 + x3
            textual =~ x4 + x5 + x6
            visual + textual ~ sex + ageyr', data = HS, estimator = "WLSMV"), "hs_cont_x",
       wls = TRUE)
record(cfa(HSm, data = HS, estimator = "DWLS"), "hs_cont_dwls")

## ---------------------------------------------------------------- (1) WLSMV, mixed
r <- with_warnings(cfa(HSm, data = MIX, ordered = c("x1", "x2", "x3"), estimator = "WLSMV"))
record(r$fit, "hs_mixed", wls = TRUE, warnings = r$warnings)
write_mi(r$fit, "hs_mixed")
r <- with_warnings(cfa('visual =~ x1 + x2 + x3
                        textual =~ x4 + x5 + x6c', data = MIX,
                       ordered = c("x1", "x2", "x3", "x6c"), estimator = "WLSMV"))
record(r$fit, "hs_mixed_many", wls = TRUE, warnings = r$warnings)
record(cfa(HSm, data = MIX, ordered = c("x1", "x2", "x3"), estimator = "WLSMV",
           group = "school"), "hs_mixed_group")

## ---------------------------------------------------------------- (2) two-level, one-level variables
m_simple <- '
level: 1
  y1 ~ x1
level: 2
  y1 ~ w1
'
record(sem(m_simple, data = Demo, cluster = "cluster"), "tl_simple")

m_demo <- '
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1 + w2
'
fit_demo <- sem(m_demo, data = Demo, cluster = "cluster")
record(fit_demo, "tl_demo")
cat("\nh1 (EM) moments of tl_demo, level-1 variables", lavNames(fit_demo, "ov", level = 1),
    "; level-2 variables", lavNames(fit_demo, "ov", level = 2), "\n")
print(fit_demo@h1$implied, digits = 12)

m_roles <- '
level: 1
  fw =~ y1 + y2 + y3 + x2
  fw ~ x1
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1
  w2 ~ fb
'
record(sem(m_roles, data = Demo, cluster = "cluster"), "tl_roles")
record(sem(m_demo, data = Demo, cluster = "cluster", fixed.x = FALSE), "tl_demo_freex")

## a cluster-level variable that varies within a cluster: lavaan 0.6.14 only warns
Demo2 <- Demo
Demo2$w1[5] <- Demo2$w1[5] + 1
r <- with_warnings(sem(m_demo, data = Demo2, cluster = "cluster"))
cat("lavaan fits it anyway (chisq", fitMeasures(r$fit, "chisq"), ")\n")

write_tbl(do.call(rbind, cases), file.path(out_res, "wlsmvtl_cases.csv"))
sessionInfo()
