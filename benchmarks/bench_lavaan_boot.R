## Time lavaan's se = "bootstrap" on the benchmark's data and model.
## Usage: Rscript bench_lavaan_boot.R <data.csv> <model.lav> <n_boot>
## Prints one line: "lavaan elapsed_per_draw <s> user_per_draw <s> marginal_user_per_draw <s> n_boot <n> failed <k>
## lavaan <version>"; the marginal time is the bootstrap run minus the same fit without draws, per draw.
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(lavaan))
d <- read.csv(args[1])
m <- paste(readLines(args[2]), collapse = "\n")
b <- as.integer(args[3])
fit0 <- sem(m, data = d)  # the full-sample fit (not timed)
## the plain fit from the same start, timed 5 times (median): what the bootstrap run does besides its draws
s0 <- median(sapply(1:5, function(i) system.time(sem(m, data = d, start = fit0))[["user.self"]]))
set.seed(1)
st <- system.time(fit <- sem(m, data = d, se = "bootstrap", bootstrap = b,
                             start = fit0))
bm <- lavInspect(fit, "boot")
cat(sprintf("lavaan elapsed_per_draw %.4f user_per_draw %.4f marginal_user_per_draw %.4f n_boot %d failed %d lavaan %s\n",
            st[["elapsed"]] / b, st[["user.self"]] / b, (st[["user.self"]] - s0) / b, b,
            length(attr(bm, "error.idx")),
            as.character(packageVersion("lavaan"))))
