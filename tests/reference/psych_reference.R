# Reference values for analysis.psychometrics, recorded with psych, GPArotation,
# lavaan and semTools.  Run from the repository root:
#   Rscript tests/reference/psych_reference.R > tests/reference/psych_reference.Rout 2>&1
# Writes CSV inputs and outputs into tests/reference/psych/.  The tests read
# those files; R is never needed to run the tests.
suppressPackageStartupMessages({
  library(psych); library(GPArotation); library(lavaan); library(semTools); library(lme4)
})
out <- "tests/reference/psych"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
wcsv <- function(x, name) write.csv(x, file.path(out, name), row.names = FALSE)
cat("R", R.version.string, "\n")
for (p in c("psych", "GPArotation", "lavaan", "semTools", "lme4"))
  cat(p, as.character(packageVersion(p)), "\n")
options(digits = 12)

# ---- inputs --------------------------------------------------------------
hs <- HolzingerSwineford1939[, c("school", paste0("x", 1:9))]
wcsv(hs, "hs.csv")
bfi10 <- psych::bfi[, c(paste0("A", 1:5), paste0("C", 1:5))]
wcsv(bfi10, "bfi10.csv")
X <- hs[, paste0("x", 1:9)]

# ---- descriptives (psych::describe, types 1, 2, 3) ------------------------
desc <- do.call(rbind, lapply(1:3, function(t) {
  d <- describe(bfi10, type = t)
  data.frame(item = rownames(d), type = t, n = d$n, mean = d$mean, sd = d$sd,
             skew = d$skew, kurtosis = d$kurtosis, min = d$min, max = d$max)
}))
wcsv(desc, "describe_bfi10.csv"); print(desc)

# ---- factorability ---------------------------------------------------------
k <- KMO(cor(X))
kmo <- data.frame(item = c(names(k$MSAi), "overall"), msa = c(unname(k$MSAi), k$MSA))
wcsv(kmo, "kmo_hs.csv"); print(kmo)
b <- cortest.bartlett(cor(X), n = nrow(X))
bart <- data.frame(chisq = b$chisq, df = b$df, pvalue = b$p.value)
wcsv(bart, "bartlett_hs.csv"); print(bart)
kb <- KMO(cor(bfi10, use = "pairwise"))
wcsv(data.frame(item = c(names(kb$MSAi), "overall"), msa = c(unname(kb$MSAi), kb$MSA)), "kmo_bfi10.csv")
print(kb)

# ---- EFA -------------------------------------------------------------------
efa_rows <- function(f, dataset, fm) {
  L <- unclass(f$loadings)
  data.frame(dataset = dataset, fm = fm, item = rep(rownames(L), ncol(L)),
             factor = rep(seq_len(ncol(L)), each = nrow(L)), loading = as.vector(L))
}
f_mr <- fa(X, nfactors = 3, fm = "minres", rotate = "oblimin")
f_ml <- fa(X, nfactors = 3, fm = "ml", rotate = "oblimin")
f_b <- fa(bfi10, nfactors = 2, fm = "minres", rotate = "oblimin")
print(f_mr); print(f_ml); print(f_b)
wcsv(rbind(efa_rows(f_mr, "hs", "minres"), efa_rows(f_ml, "hs", "ml"),
           efa_rows(f_b, "bfi10", "minres")), "efa_loadings.csv")
phi_rows <- function(f, dataset, fm) {
  P <- f$Phi
  data.frame(dataset = dataset, fm = fm, row = rep(seq_len(nrow(P)), ncol(P)),
             col = rep(seq_len(ncol(P)), each = nrow(P)), phi = as.vector(P))
}
wcsv(rbind(phi_rows(f_mr, "hs", "minres"), phi_rows(f_ml, "hs", "ml"),
           phi_rows(f_b, "bfi10", "minres")), "efa_phi.csv")
wcsv(rbind(data.frame(dataset = "hs", fm = "minres", item = names(X), communality = f_mr$communality),
           data.frame(dataset = "hs", fm = "ml", item = names(X), communality = f_ml$communality),
           data.frame(dataset = "bfi10", fm = "minres", item = names(bfi10), communality = f_b$communality)),
     "efa_communality.csv")

# ---- parallel analysis -----------------------------------------------------
set.seed(20240534)
pa <- fa.parallel(X, fm = "minres", fa = "both", n.iter = 200, plot = FALSE)
print(pa)
wcsv(data.frame(component = seq_along(pa$pc.values), pc_observed = pa$pc.values,
                fa_observed = pa$fa.values, pc_simulated = pa$pc.sim,
                fa_simulated = pa$fa.sim), "parallel_hs.csv")
wcsv(data.frame(nfact = pa$nfact, ncomp = pa$ncomp), "parallel_hs_n.csv")

# ---- Harman (first unrotated principal component) -------------------------
pr <- principal(X, nfactors = 1, rotate = "none")
f1 <- fa(X, nfactors = 1, fm = "minres", rotate = "none")
harman <- data.frame(method = c("pca", "fa"),
                     share = c(pr$values[1] / ncol(X), sum(f1$loadings^2) / ncol(X)))
wcsv(harman, "harman_hs.csv"); print(harman)

# ---- alpha -----------------------------------------------------------------
alpha_rows <- list()
sets <- list(visual = paste0("x", 1:3), textual = paste0("x", 4:6), speed = paste0("x", 7:9))
for (nm in names(sets)) {
  a <- psych::alpha(X[, sets[[nm]]])
  ci <- alpha.ci(a$total$raw_alpha, n.obs = nrow(X), n.var = length(sets[[nm]]))
  alpha_rows[[nm]] <- data.frame(dataset = "hs", scale = nm, alpha = a$total$raw_alpha,
                                 std_alpha = a$total$std.alpha,
                                 ci_lower = ci$lower.ci, ci_upper = ci$upper.ci, n = nrow(X))
}
a <- psych::alpha(bfi10[, paste0("A", 2:5)])   # pairwise covariances, missing data
nA <- sum(complete.cases(bfi10[, paste0("A", 2:5)]))
ci <- alpha.ci(a$total$raw_alpha, n.obs = nrow(bfi10), n.var = 4)
alpha_rows[["A"]] <- data.frame(dataset = "bfi10", scale = "A2-A5", alpha = a$total$raw_alpha,
                                std_alpha = a$total$std.alpha, ci_lower = ci$lower.ci,
                                ci_upper = ci$upper.ci, n = nrow(bfi10))
alpha_tab <- do.call(rbind, alpha_rows); wcsv(alpha_tab, "alpha.csv"); print(alpha_tab)

# ---- CFA-based reliability and validity (semTools 0.5.6) -------------------
model <- ' visual =~ x1 + x2 + x3
           textual =~ x4 + x5 + x6
           speed =~ x7 + x8 + x9 '
fit <- cfa(model, data = HolzingerSwineford1939)
om <- compRelSEM(fit)                    # defaults: obs.var = TRUE
cr <- compRelSEM(fit, obs.var = FALSE)   # model-implied denominator
av <- AVE(fit)
rel <- data.frame(factor = names(om), omega = unlist(om), cr = unlist(cr), ave = unlist(av[names(om)]))
wcsv(rel, "reliability_cfa_hs.csv"); print(rel)
ht <- htmt(model, data = HolzingerSwineford1939)            # default htmt2 = TRUE
ht1 <- htmt(model, data = HolzingerSwineford1939, htmt2 = FALSE)
print(ht); print(ht1)
wcsv(data.frame(row = rep(rownames(ht), ncol(ht)), col = rep(colnames(ht), each = nrow(ht)),
                htmt2 = as.vector(ht), htmt = as.vector(ht1)), "htmt_hs.csv")
std <- standardizedSolution(fit)
wcsv(std[, c("lhs", "op", "rhs", "est.std")], "cfa_std_hs.csv")
print(lavInspect(fit, "cor.lv"))

# ---- ICC(1) (Bliese 2000) -------------------------------------------------
set.seed(4242)
g <- rep(1:40, times = sample(5:25, 40, replace = TRUE))
u <- rnorm(40, sd = sqrt(0.2))
y <- u[g] + rnorm(length(g), sd = sqrt(0.8))
cl <- data.frame(cluster = g, y = y)
wcsv(cl, "icc_data.csv")
av1 <- anova(lm(y ~ factor(cluster), data = cl))
msb <- av1[1, "Mean Sq"]; msw <- av1[2, "Mean Sq"]
nj <- table(cl$cluster); J <- length(nj); N <- sum(nj)
k0 <- (N - sum(nj^2) / N) / (J - 1)   # unequal cluster-size multiplier
icc1 <- (msb - msw) / (msb + (k0 - 1) * msw)
mm <- lmer(y ~ 1 + (1 | cluster), data = cl, REML = TRUE)
vc <- as.data.frame(VarCorr(mm))
icc_lmer <- vc$vcov[1] / sum(vc$vcov)
icc <- data.frame(msb = msb, msw = msw, k0 = k0, icc1 = icc1, icc_reml = icc_lmer,
                  mean_size = mean(nj), n_clusters = J, n = N)
wcsv(icc, "icc_ref.csv"); print(icc)
