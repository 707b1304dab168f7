## lavaan 0.6.14 reference values for two-level SEM (analysis/sem/twolevel.py)
## and for sem(..., cluster =) with a single-level model (cluster-robust SEs).
##
## Run from the repository root:
##   Rscript tests/reference/lavaan_twolevel.R > tests/reference/lavaan_twolevel.Rout 2>&1
##
## Reads  tests/reference/data/twolevel_paths.csv (written by
##        tests/reference/make_twolevel_paths.py, seeded synthetic data).
## Writes tests/reference/data/Demo_twolevel.csv (lavaan's Demo.twolevel,
##        GPL like lavaan; all 12 columns, 2500 rows, 200 clusters) and
##        tests/reference/lavaan/twolevel_<case>_{estimates,fit}.csv,
##        tests/reference/lavaan/twolevel_cases.csv.
## R is used only to record reference values; it is never a runtime or test
## dependency.  The script is deterministic (no random numbers).
##
## Cases
##   demo_cfa      Demo.twolevel, level 1: fw =~ y1+y2+y3; level 2: fb =~ y1+y2+y3
##                 (df = 0: the model reproduces the saturated two-level model)
##   demo_cfa6     Demo.twolevel, level 1: fw1 =~ y1+y2+y3; fw2 =~ y4+y5+y6;
##                 level 2: fb =~ y1+...+y6 (df = 17)
##   paths         twolevel_paths.csv, x -> m1..m4 -> y at both levels with
##                 labelled paths and := indirect effects per level (8 rows with
##                 a missing value are dropped listwise: nobs 1206)
##   paths_freex   the same with fixed.x = FALSE
##   paths_sat     the study's shape: x -> m1..m4 -> y with the direct path and
##                 correlated mediator residuals at *both* levels (df = 0),
##                 indirect effects per mediator and in total at each level;
##                 with fixed.x = TRUE lavaan reports chisq 1.943 at df = 0
##                 (x's mean is fixed at the between part of its EM estimate)
##   demo_cluster  Demo.twolevel, single-level CFA f1 =~ y1+y2+y3; f2 =~ y4+y5+y6
##                 with cluster = "cluster" (lavaan: se = "robust.cluster",
##                 test = "yuan.bentler.mplus", meanstructure on)
##   demo_cluster_mlr  the same with estimator = "MLR": identical estimates and
##                 SEs; the scaled test differs slightly because with the
##                 default estimator "ML" lavaan 0.6.14 sets
##                 observed.information = c("hessian", "h1") (its warning
##                 "observed.information for ALL test statistics is set to
##                 h1"), i.e. the test's h0 information is the h1-based
##                 approximation, while with "MLR" it is the Hessian.
##
## Precision.  lavaan's optimizer (nlminb, rel.tol 1e-10) stops the two-level
## fits with a gradient of ~1e-6 on the fmin scale: estimates of flat
## directions (between-level means, variances) are then ~1e-4 (relative) from
## the exact maximum, about 1e-3 of a standard error; tighter rel.tol makes
## nlminb fail ("false convergence").  The Python tests therefore also
## evaluate the core's likelihood and standard errors *at lavaan's estimates*,
## where they must agree to ~1e-10.

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

## parameterEstimates() merged with standardizedSolution()$est.std.
## Two-level fits: columns lhs, op, rhs, block, level, group (1), label, ...
## (':=' rows have block = level = 0, as lavaan prints them); single-level
## fits: lhs, op, rhs, group, label, ... (the format of lavaan_reference.R).
tidy_estimates <- function(fit) {
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  twolevel <- "level" %in% names(pe)
  if (!"block" %in% names(pe)) pe$block <- 1L
  if (!"level" %in% names(pe)) pe$level <- 1L
  pe$group <- 1L
  if (!"label" %in% names(pe)) pe$label <- ""
  pe$label[is.na(pe$label)] <- ""
  pe$block[pe$op == ":="] <- 0L
  pe$level[pe$op == ":="] <- 0L
  ## standardizedSolution() of a two-level fit has no block column: its rows
  ## are those of parameterEstimates(), in the same order (checked here)
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
record <- function(fit, case) {
  est <- tidy_estimates(fit)
  fm <- fitMeasures(fit)
  write_tbl(est, file.path(out_res, paste0("twolevel_", case, "_estimates.csv")))
  write_tbl(data.frame(measure = names(fm), value = signif(as.numeric(fm), 15)),
            file.path(out_res, paste0("twolevel_", case, "_fit.csv")))
  o <- lavInspect(fit, "options")
  info <- data.frame(case = case, converged = lavInspect(fit, "converged"),
                     iterations = lavInspect(fit, "iterations"),
                     nobs = sum(lavInspect(fit, "nobs")),
                     nclusters = paste(unlist(lavInspect(fit, "nclusters")), collapse = ","),
                     nlevels = fit@Data@nlevels, estimator = o$estimator, se = o$se,
                     test = paste(o$test, collapse = ","),
                     information = paste(o$information, collapse = ","),
                     h1_information = paste(o$h1.information, collapse = ","),
                     observed_information = paste(o$observed.information, collapse = ","),
                     meanstructure = o$meanstructure, fixed_x = o$fixed.x,
                     npar = unname(fm["npar"]))
  cases[[case]] <<- info
  cat("\n=====================================================================\n")
  cat("case: twolevel_", case, "\n", sep = "")
  print(t(info))
  keys <- c("npar", "fmin", "chisq", "df", "pvalue", "chisq.scaled", "chisq.scaling.factor",
            "baseline.chisq", "baseline.df", "cfi", "tli", "rmsea", "rmsea.ci.lower",
            "rmsea.ci.upper", "srmr", "srmr_within", "srmr_between", "logl",
            "unrestricted.logl", "aic", "bic", "ntotal")
  print(fm[intersect(keys, names(fm))], digits = 12)
  print(est, digits = 8)
}

## ---------------------------------------------------------------- data
data(Demo.twolevel, package = "lavaan")
write_tbl(num15(Demo.twolevel), file.path(out_data, "Demo_twolevel.csv"))
Demo <- utils::read.csv(file.path(out_data, "Demo_twolevel.csv"))
cat("Demo.twolevel:", nrow(Demo), "rows,", length(unique(Demo$cluster)), "clusters;",
    "max |written - lavaan| =", max(abs(as.matrix(Demo) - as.matrix(Demo.twolevel))), "\n")
P <- utils::read.csv(file.path(out_data, "twolevel_paths.csv"))
cat("twolevel_paths:", nrow(P), "rows,", length(unique(P$cluster)), "clusters,",
    sum(!complete.cases(P)), "rows with a missing value\n")

## ---------------------------------------------------------------- (a) CFA at both levels
m_demo <- '
level: 1
  fw =~ y1 + y2 + y3
level: 2
  fb =~ y1 + y2 + y3
'
record(sem(m_demo, data = Demo, cluster = "cluster"), "demo_cfa")

m_demo6 <- '
level: 1
  fw1 =~ y1 + y2 + y3
  fw2 =~ y4 + y5 + y6
level: 2
  fb1 =~ y1 + y2 + y3
  fb2 =~ y4 + y5 + y6
'
record(sem(m_demo6, data = Demo, cluster = "cluster"), "demo_cfa6")

## ---------------------------------------------------------------- (b) two-level mediation
m_paths <- '
level: 1
  m1 ~ a1w*x
  m2 ~ a2w*x
  m3 ~ a3w*x
  m4 ~ a4w*x
  y ~ b1w*m1 + b2w*m2 + b3w*m3 + b4w*m4 + cw*x
  m1 ~~ m2 + m3 + m4
  m2 ~~ m3 + m4
  m3 ~~ m4
level: 2
  m1 ~ a1b*x
  m2 ~ a2b*x
  m3 ~ a3b*x
  m4 ~ a4b*x
  y ~ b1b*m1 + b2b*m2 + b3b*m3 + b4b*m4
ind1_w := a1w*b1w
ind_w := a1w*b1w + a2w*b2w + a3w*b3w + a4w*b4w
total_w := cw + a1w*b1w + a2w*b2w + a3w*b3w + a4w*b4w
ind1_b := a1b*b1b
ind_b := a1b*b1b + a2b*b2b + a3b*b3b + a4b*b4b
diff_1 := a1b*b1b - a1w*b1w
'
fit_paths <- sem(m_paths, data = P, cluster = "cluster")
record(fit_paths, "paths")
## the same with fixed.x = FALSE (the moments of x estimated at both levels)
record(sem(m_paths, data = P, cluster = "cluster", fixed.x = FALSE), "paths_freex")
## saturated at both levels (the study's two-level path model)
lev_sat <- function(s) gsub("_", s, '
  m1 ~ a1_*x
  m2 ~ a2_*x
  m3 ~ a3_*x
  m4 ~ a4_*x
  y ~ b1_*m1 + b2_*m2 + b3_*m3 + b4_*m4 + c_*x
  m1 ~~ m2 + m3 + m4
  m2 ~~ m3 + m4
  m3 ~~ m4
')
defs_sat <- paste(c(sprintf("ind%d_w := a%dw*b%dw", 1:4, 1:4, 1:4),
                    sprintf("ind%d_b := a%db*b%db", 1:4, 1:4, 1:4),
                    "total_ind_w := a1w*b1w + a2w*b2w + a3w*b3w + a4w*b4w",
                    "total_ind_b := a1b*b1b + a2b*b2b + a3b*b3b + a4b*b4b",
                    "total_w := cw + a1w*b1w + a2w*b2w + a3w*b3w + a4w*b4w",
                    "total_b := cb + a1b*b1b + a2b*b2b + a3b*b3b + a4b*b4b"), collapse = "\n")
m_sat <- paste0("level: 1\n", lev_sat("w"), "level: 2\n", lev_sat("b"), defs_sat, "\n")
cat(m_sat)
record(sem(m_sat, data = P, cluster = "cluster"), "paths_sat")

## lavaan fixes the moments of the exogenous x at the EM (h1) estimates:
## within variance, between variance and the between part of the mean
h1 <- fit_paths@h1$implied
cat("\nh1 (EM) moments of the paths case, ov order", lavNames(fit_paths, "ov"), "\n")
print(h1, digits = 12)
cat("h1 loglik (unrestricted.logl):", format(fitMeasures(fit_paths, "unrestricted.logl"), digits = 15), "\n")

## ---------------------------------------------------------------- (c) single level, cluster-robust
record(cfa('f1 =~ y1 + y2 + y3
            f2 =~ y4 + y5 + y6', data = Demo, cluster = "cluster"), "demo_cluster")

record(cfa('f1 =~ y1 + y2 + y3
            f2 =~ y4 + y5 + y6', data = Demo, cluster = "cluster", estimator = "MLR"),
       "demo_cluster_mlr")

write_tbl(do.call(rbind, cases), file.path(out_res, "twolevel_cases.csv"))
sessionInfo()
