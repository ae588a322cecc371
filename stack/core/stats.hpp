// Counters, named after the MIB objects of RFC 1213 / RFC 2863 / RFC 4293 where one exists.
#pragma once

#include <cstdint>
#include <string_view>

namespace tapir {

// Each X(name, description) becomes a std::uint64_t member of Stats. Names that exist in a MIB
// keep the MIB's spelling; tapir's finer drop reasons use the same prefix and style, so
// `--stats` output greps the way snmp tools print.
// One counter per line, the descriptions in a column:
// clang-format off
#define TAPIR_LINK_COUNTERS(X)                                                               \
  X(ifInOctets, "octets received on all interfaces")                                         \
  X(ifInUcastPkts, "unicast frames delivered to a protocol")                                 \
  X(ifInNUcastPkts, "broadcast/multicast frames delivered to a protocol")                    \
  X(ifInDiscards, "frames dropped though well formed (not for us)")                          \
  X(ifInErrors, "frames too short to hold an Ethernet header")                               \
  X(ifInUnknownProtos, "frames of an EtherType no layer handles")                            \
  X(ifOutOctets, "octets sent")                                                              \
  X(ifOutUcastPkts, "unicast frames sent")                                                   \
  X(ifOutNUcastPkts, "broadcast/multicast frames sent")                                      \
  X(ifOutDiscards, "frames that could not be sent (no link hook)")

#define TAPIR_ARP_COUNTERS(X)                                                                \
  X(arpInRequests, "ARP requests received")                                                  \
  X(arpInReplies, "ARP replies received")                                                    \
  X(arpInErrors, "ARP packets malformed or of a foreign hardware/protocol type")            \
  X(arpInIgnored, "ARP packets not about us and not updating an entry")                      \
  X(arpInSpoofRejected, "unsolicited replies refused: would overwrite a resolved entry")     \
  X(arpOutRequests, "ARP requests sent (retries and gratuitous included)")                   \
  X(arpOutReplies, "ARP replies sent")                                                       \
  X(arpResolveFailures, "addresses that never answered (datagrams dropped, ICMP sent)")      \
  X(arpQueueDrops, "datagrams dropped because the per-address pending queue was full")       \
  X(arpCacheEvictions, "entries evicted to make room (idle ones first)")                     \
  X(arpCacheFullDrops, "new entries refused: table full of busy entries")

#define TAPIR_IP_COUNTERS(X)                                                                 \
  X(ipInReceives, "datagrams received from interfaces, including errors")                    \
  X(ipInHdrErrors, "datagrams dropped for header errors (sum of the ipIn*Bad* reasons)")     \
  X(ipInBadVersion, "version field not 4")                                                   \
  X(ipInBadHeaderLength, "IHL < 5 or beyond the frame")                                      \
  X(ipInBadTotalLength, "total length < IHL*4 or beyond the frame")                          \
  X(ipInCsumErrors, "header checksum wrong")                                                 \
  X(ipInBadOptions, "malformed options")                                                     \
  X(ipInBadSource, "source address broadcast/multicast/class E")                             \
  X(ipInTruncatedPkts, "frame shorter than the datagram it carries")                         \
  X(ipInAddrErrors, "not for us and not forwarding")                                         \
  X(ipInNoRoutes, "forwarding found no route")                                               \
  X(ipForwDatagrams, "datagrams forwarded")                                                  \
  X(ipInUnknownProtos, "datagrams for a protocol nobody handles")                            \
  X(ipInDiscards, "datagrams dropped for lack of resources")                                 \
  X(ipInDelivers, "datagrams delivered to a protocol")                                       \
  X(ipOutRequests, "datagrams handed to IP by local protocols")                              \
  X(ipOutDiscards, "outgoing datagrams dropped (e.g. DF set and too big)")                   \
  X(ipOutNoRoutes, "outgoing datagrams with no route")                                       \
  X(ipOutLoopback, "datagrams delivered locally without the wire")                           \
  X(ipReasmReqds, "fragments received that needed reassembly")                               \
  X(ipReasmOKs, "datagrams reassembled")                                                     \
  X(ipReasmFails, "reassembly failures (timeouts, overlaps, oversize, memory)")              \
  X(ipReasmTimeout, "datagrams whose reassembly timed out")                                  \
  X(ipReasmOverlaps, "datagrams dropped for overlapping fragments (RFC 5722)")               \
  X(ipReasmOversize, "datagrams dropped for exceeding 65535 bytes")                          \
  X(ipReasmMemoryDrops, "fragments dropped by the reassembly memory cap")                     \
  X(ipReasmSourceLimitDrops, "fragments dropped: their source holds its share of that cap")                    \
  X(ipFragOKs, "datagrams fragmented")                                                       \
  X(ipFragFails, "datagrams that needed fragmenting but had DF set")                         \
  X(ipFragCreates, "fragments created")

#define TAPIR_ICMP_COUNTERS(X)                                                               \
  X(icmpInMsgs, "ICMP messages received")                                                    \
  X(icmpInErrors, "ICMP messages dropped as malformed")                                      \
  X(icmpInCsumErrors, "ICMP checksum wrong")                                                 \
  X(icmpInDestUnreachs, "destination unreachable received")                                  \
  X(icmpInTimeExcds, "time exceeded received")                                               \
  X(icmpInParmProbs, "parameter problem received")                                           \
  X(icmpInSrcQuenchs, "source quench received (ignored, RFC 6633)")                          \
  X(icmpInRedirects, "redirects received")                                                   \
  X(icmpInEchos, "echo requests received")                                                   \
  X(icmpInEchoReps, "echo replies received")                                                 \
  X(icmpInTimestamps, "timestamp requests received")                                         \
  X(icmpInTimestampReps, "timestamp replies received")                                       \
  X(icmpInAddrMasks, "address mask requests received")                                       \
  X(icmpInAddrMaskReps, "address mask replies received")                                     \
  X(icmpOutMsgs, "ICMP messages sent")                                                       \
  X(icmpOutErrors, "ICMP messages not sent for lack of a route or buffer")                   \
  X(icmpOutDestUnreachs, "destination unreachable sent")                                     \
  X(icmpOutTimeExcds, "time exceeded sent")                                                  \
  X(icmpOutParmProbs, "parameter problem sent")                                              \
  X(icmpOutRedirects, "redirects sent")                                                      \
  X(icmpOutEchos, "echo requests sent")                                                      \
  X(icmpOutEchoReps, "echo replies sent")                                                    \
  X(icmpOutTimestampReps, "timestamp replies sent")                                          \
  X(icmpOutAddrMaskReps, "address mask replies sent")                                        \
  X(icmpOutRateLimited, "error messages suppressed by the rate limiter")                      \
  X(icmpOutEchoRateLimited, "echo replies not sent: over --limit echo-rate")

#define TAPIR_IGMP_COUNTERS(X)                                                               \
  X(igmpInMsgs, "IGMP messages received")                                                    \
  X(igmpInErrors, "IGMP messages dropped as malformed (short, bad length, bad checksum)")    \
  X(igmpInCsumErrors, "IGMP checksum wrong")                                                 \
  X(igmpInQueries, "membership queries received (any version)")                              \
  X(igmpInReports, "membership reports received (v1, v2 or v3)")                             \
  X(igmpInLeaves, "v2 leave group messages received")                                        \
  X(igmpInUnknownTypes, "IGMP messages of a type a host ignores")                            \
  X(igmpInQueriesIgnored, "queries for a group this interface has not joined")               \
  X(igmpReportsSuppressed, "v1/v2 reports not sent: another member reported first")          \
  X(igmpOlderQuerierSwitches, "interfaces switched to v1/v2 on hearing an older querier")    \
  X(igmpOutMsgs, "IGMP messages sent")                                                       \
  X(igmpOutReports, "membership reports sent (v1, v2 or v3)")                                \
  X(igmpOutLeaves, "v2 leave group messages sent")                                           \
  X(igmpOutErrors, "IGMP messages IP could not send (no address or route)")

#define TAPIR_UDP_COUNTERS(X)                                                                \
  X(udpInDatagrams, "datagrams delivered to a socket (RFC 4113)")                            \
  X(udpNoPorts, "datagrams for a port nobody listens on")                                    \
  X(udpInErrors, "datagrams not delivered for a reason other than no port")                  \
  X(udpInCsumErrors, "datagrams with a wrong checksum")                                      \
  X(udpInBadLength, "UDP length field disagrees with the IP payload")                        \
  X(udpRcvbufErrors, "datagrams dropped because the socket's SO_RCVBUF was full")            \
  X(udpOutDatagrams, "datagrams sent")

#define TAPIR_TCP_COUNTERS(X)                                                                \
  X(tcpActiveOpens, "connections that went SYN-SENT from CLOSED (RFC 4022)")                 \
  X(tcpPassiveOpens, "connections that went SYN-RECEIVED from LISTEN")                       \
  X(tcpAttemptFails, "opens that failed (SYN-SENT/SYN-RECEIVED to CLOSED or LISTEN)")        \
  X(tcpEstabResets, "ESTABLISHED/CLOSE-WAIT connections that were reset")                    \
  X(tcpCurrEstab, "connections now in ESTABLISHED or CLOSE-WAIT (a gauge)")                  \
  X(tcpConnections, "connection blocks alive, TIME-WAIT included (a gauge)")                 \
  X(tcpInSegs, "segments received, including errors")                                        \
  X(tcpOutSegs, "segments sent, excluding retransmissions")                                  \
  X(tcpRetransSegs, "segments retransmitted")                                                \
  X(tcpInErrs, "segments dropped as malformed (short, bad offset, bad checksum)")            \
  X(tcpInCsumErrors, "segments with a wrong checksum")                                       \
  X(tcpInBadAddr, "segments to a broadcast or multicast address (RFC 1122 §4.2.3.10)")       \
  X(tcpOutRsts, "segments sent with RST")                                                    \
  X(tcpInOptionErrors, "segments whose option list was malformed (options cut short)")       \
  X(tcpOutOfWindow, "segments outside the receive window (answered with an ACK)")            \
  X(tcpPawsDrops, "segments dropped by PAWS (RFC 7323 §5)")                                  \
  X(tcpAckTooOld, "segments whose ACK is older than the window allows (RFC 5961 §5)")        \
  X(tcpAckUnsent, "segments acknowledging data not yet sent")                                \
  X(tcpChallengeAcks, "challenge ACKs sent (RFC 5961)")                                      \
  X(tcpChallengeAcksLimited, "challenge ACKs suppressed by the rate limit (RFC 5961 §7)")    \
  X(tcpOfoQueued, "segments kept out of order")                                              \
  X(tcpRcvWindowDrops, "bytes beyond the receive window dropped")                            \
  X(tcpListenOverflows, "SYNs or ACKs dropped because an accept queue was full")             \
  X(tcpListenDrops, "SYNs dropped at a listener (full queues)")                              \
  X(tcpSyncookiesSent, "SYN-ACKs sent with a SYN cookie (SYN queue full, RFC 4987 §3.6)")    \
  X(tcpSyncookiesRecv, "ACKs whose SYN cookie checked and opened a connection")              \
  X(tcpSyncookiesFailed, "ACKs at a listener whose SYN cookie did not check (dropped)")      \
  X(tcpSynPerSourceLimited, "SYNs from a source at its half-open limit (cookie, or dropped)") \
  X(tcpConnectionLimitDrops, "connections refused at the connection cap (SYN dropped, ENOBUFS)") \
  X(tcpTimeouts, "retransmission timer expiries")                                            \
  X(tcpFastRetrans, "loss recoveries begun: fast retransmit, by duplicate ACKs or SACK")      \
  X(tcpSackRecovery, "of them, SACK-based recoveries (RFC 6675, RACK: RFC 8985)")            \
  X(tcpRackReorderTimeouts, "RACK reordering timer expiries (RFC 8985 §6.3)")                \
  X(tcpLossProbes, "tail loss probes sent (RFC 8985 §7)")                                    \
  X(tcpLossProbeRecovery, "tail losses a probe repaired (RFC 8985 §7.4)")                    \
  X(tcpDsackRecv, "D-SACK blocks received (RFC 2883)")                                       \
  X(tcpDsackUndo, "reductions undone: every retransmission D-SACKed (RFC 3708)")             \
  X(tcpSpuriousRtos, "timeouts F-RTO found spurious, reduction undone (RFC 5682)")           \
  X(tcpDelayedAcks, "ACKs sent by the delayed-ACK timer")                                    \
  X(tcpZeroWindowProbes, "persist probes sent into a zero window")                           \
  X(tcpKeepaliveProbes, "keepalive probes sent")                                             \
  X(tcpTimeWaitReused, "TIME-WAIT connections ended by a new SYN (RFC 6191)")                \
  X(tcpAbortOnClose, "connections reset because closed with unread data")                    \
  X(tcpAbortOnTimeout, "connections dropped after too many retransmissions")

#define TAPIR_SOCKET_COUNTERS(X)                                                             \
  X(rawInDelivers, "datagrams copied to raw sockets")                                        \
  X(rawRcvbufErrors, "copies dropped because a raw socket's SO_RCVBUF was full")             \
  X(packetInDelivers, "frames copied to packet capture sockets")                             \
  X(packetRcvbufErrors, "frames dropped because a capture socket's SO_RCVBUF was full")

#define TAPIR_ALL_COUNTERS(X)                                                                \
  TAPIR_LINK_COUNTERS(X) TAPIR_ARP_COUNTERS(X) TAPIR_IP_COUNTERS(X) TAPIR_ICMP_COUNTERS(X)    \
  TAPIR_IGMP_COUNTERS(X) TAPIR_UDP_COUNTERS(X) TAPIR_TCP_COUNTERS(X)   \
  TAPIR_SOCKET_COUNTERS(X)

// clang-format on

struct Stats {
#define TAPIR_COUNTER_MEMBER(name, description) std::uint64_t name = 0;
  TAPIR_ALL_COUNTERS(TAPIR_COUNTER_MEMBER)
#undef TAPIR_COUNTER_MEMBER

  // Calls fn(name, value, description) for every counter, in declaration order.
  template <typename Fn>
  void for_each(Fn&& fn) const {
#define TAPIR_COUNTER_VISIT(name, description) fn(std::string_view{#name}, name, description);
    TAPIR_ALL_COUNTERS(TAPIR_COUNTER_VISIT)
#undef TAPIR_COUNTER_VISIT
  }
};

}  // namespace tapir
