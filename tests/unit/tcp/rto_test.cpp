// Tests of the RFC 6298 RTO estimator: first and later samples, bounds and backoff.
#include <catch2/catch.hpp>

#include "stack/tcp/rto.hpp"

using namespace tapir;
using tapir::tcp::RtoConfig;
using tapir::tcp::RtoEstimator;

TEST_CASE("Before any sample the RTO is 1 s (RFC 6298 §2.1)", "[tcp][rto]") {
  const RtoEstimator rto;
  CHECK(rto.rto() == 1s);
  CHECK_FALSE(rto.srtt());
}

TEST_CASE("The first sample sets SRTT to R and RTTVAR to R/2 (RFC 6298 §2.2)", "[tcp][rto]") {
  RtoEstimator rto;
  rto.sample(100ms);
  CHECK(rto.srtt() == 100ms);
  CHECK(rto.rttvar() == 50ms);
  // SRTT + 4 RTTVAR = 300 ms.
  CHECK(rto.rto() == 300ms);
}

TEST_CASE("Later samples smooth with alpha 1/8 and beta 1/4 (RFC 6298 §2.3)", "[tcp][rto]") {
  RtoEstimator rto;
  rto.sample(100ms);
  rto.sample(200ms);
  // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms, from the SRTT before its update.
  CHECK(rto.rttvar() == 62'500us);
  // SRTT = 7/8 * 100 + 1/8 * 200 = 112.5 ms.
  CHECK(rto.srtt() == 112'500us);
  CHECK(rto.rto() == 112'500us + 4 * 62'500us);
}

TEST_CASE("The RTO is never below the configured minimum of 200 ms", "[tcp][rto]") {
  RtoEstimator rto;
  rto.sample(1ms);
  CHECK(rto.rto() == 200ms);
}

TEST_CASE("The RTO is never above the configured maximum of 60 s (RFC 6298 §2.5)", "[tcp][rto]") {
  RtoEstimator rto;
  rto.sample(50s);
  CHECK(rto.rto() == 60s);
}

TEST_CASE("A steady RTT leaves RTO at SRTT plus the clock granularity when above the minimum",
          "[tcp][rto]") {
  RtoConfig config;
  config.min = Duration{0};
  RtoEstimator rto(config);
  for (int i = 0; i < 200; ++i) rto.sample(10ms);
  CHECK(rto.srtt() == 10ms);
  CHECK(rto.rttvar() == Duration{0});
  // RFC 6298 §2.3: max(G, K * RTTVAR) with G = 1 us.
  CHECK(rto.rto() == 10ms + 1us);
}

TEST_CASE("RTO doubles on each retransmission up to 60 s (RFC 6298 §5.5)", "[tcp][rto]") {
  RtoEstimator rto;
  rto.sample(100ms);
  REQUIRE(rto.rto() == 300ms);
  rto.backoff();
  CHECK(rto.rto() == 600ms);
  rto.backoff();
  CHECK(rto.rto() == 1200ms);
  CHECK(rto.backoffs() == 2);
  for (int i = 0; i < 6; ++i) rto.backoff();
  CHECK(rto.rto() == 60s);  // 300 ms * 256 = 76.8 s, capped
}

TEST_CASE("Any number of backoffs stays at the maximum without overflow", "[tcp][rto]") {
  RtoEstimator rto;
  for (int i = 0; i < 1000; ++i) rto.backoff();
  CHECK(rto.rto() == 60s);
}

TEST_CASE("Backoff doubles the initial RTO when no sample has been taken", "[tcp][rto]") {
  RtoEstimator rto;
  rto.backoff();
  CHECK(rto.rto() == 2s);
}

TEST_CASE("A new acknowledgement ends the backoff and restores the base RTO (RFC 6298 §5.7)",
          "[tcp][rto]") {
  RtoEstimator rto;
  rto.sample(100ms);
  rto.backoff();
  rto.backoff();
  rto.reset_backoff();
  CHECK(rto.backoffs() == 0);
  CHECK(rto.rto() == 300ms);
}

TEST_CASE("A sample does not end the backoff by itself", "[tcp][rto]") {
  RtoEstimator rto;
  rto.sample(100ms);
  rto.backoff();
  rto.sample(100ms);
  // RTTVAR = 3/4 * 50 = 37.5 ms; base 100 + 150 = 250 ms, doubled once.
  CHECK(rto.rto() == 500ms);
}

TEST_CASE("A negative RTT sample counts as zero", "[tcp][rto]") {
  RtoEstimator rto;
  rto.sample(-5ms);
  CHECK(rto.srtt() == Duration{0});
  CHECK(rto.rto() == 200ms);
}

TEST_CASE("The bounds come from the configuration", "[tcp][rto]") {
  RtoConfig config;
  config.min = 1s;
  config.max = 3s;
  RtoEstimator rto(config);
  rto.sample(10ms);
  CHECK(rto.rto() == 1s);
  rto.backoff();
  CHECK(rto.rto() == 2s);
  rto.backoff();
  CHECK(rto.rto() == 3s);
}
