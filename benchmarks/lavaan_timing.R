# Times lavaan on the data a profiler benchmark writes (benchmarks/bench_cfa_ordinal.py calls this).
# Usage: Rscript lavaan_timing.R TASK DATA.csv [REPEATS]
#   TASK: polychoric | wlsmv | fiml.   Prints one line per repeat: "seconds <s>" (the fit only, not reading).
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
task <- args[1]
data <- read.csv(args[2])
repeats <- if (length(args) >= 3) as.integer(args[3]) else 1L
factors <- c("E", "N", "A", "C", "O")
model <- paste(sapply(factors, function(f) paste0(f, " =~ ", paste0(f, 1:10, collapse = " + "))), collapse = "\n")
for (i in seq_len(repeats)) {
  t0 <- Sys.time()
  if (task == "polychoric") {
    res <- lavCor(data, ordered = names(data), missing = "pairwise")
  } else if (task == "wlsmv") {
    fit <- cfa(model, data = data, ordered = TRUE, estimator = "WLSMV")
    res <- fitMeasures(fit)
  } else if (task == "fiml") {
    fit <- cfa(model, data = data, missing = "ml")
    res <- fitMeasures(fit)
  }
  cat("seconds", as.numeric(Sys.time() - t0, units = "secs"), "\n")
}
if (task != "polychoric") cat("chisq", fitMeasures(fit, "chisq"), "\n")
