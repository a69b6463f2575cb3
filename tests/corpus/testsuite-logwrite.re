# tests/corpus/testsuite-logwrite.re
#
# Families of test-configuration text in ../shared/corpus/exim-testsuite:
# lines written by the Exim test suite's own configurations with ACL
# `logwrite`, event actions, Perl warn(), filter logfile and the like. They
# carry a normal log prefix (and an ID when the process had one) but the
# text is arbitrary, so they are NOT Exim templates: the grammar
# (grammar/mainlog.kinds) and the lexer leave them `unknown`, as they must.
# The corpus test (tests/corpus_test.sh) uses this list to tell such
# test-config text apart from Exim output we fail to parse.
#
# Format: one PCRE2 pattern per line, applied to the BODY of an unknown
# line (the text after timestamp, [pid] and message ID); `#` starts a
# comment line; blank lines are ignored. The comment above each pattern
# says how many corpus lines it covers and in which files (counted when the
# list was written). Keep the patterns specific: none may match a line of a
# real Exim template (grammar_diff and the corpus test would not notice, a
# reviewer must).
#
# Not listed on purpose (real-looking, unexplained, so they show up in the
# corpus test's figures): "Ci=pNNNN SMTP peer appears to have seen our
# banner" (log/1091, log/1116), which has Exim's Ci= session prefix but no
# template we could find in the Exim sources.

# 486 lines: log/5890 log/5891 log/5892 log/5893 log/5894 log/5895
#   TLS resumption tests: ACL logwrite of $tls_* variables, tab-separated
^peer (?:cert (?:subject|verified)|dn)\t
# 162 lines: log/5890 log/5891 log/5892 log/5893 log/5894 log/5895
^our cert subject\t
# 162 lines: log/5890 log/5891 log/5892 log/5893 log/5894 log/5895
^cipher\t
# 162 lines: log/5890 log/5891 log/5892 log/5893 log/5894 log/5895
^bits\t
# 64 lines: log/5891 log/5893 log/5895
^ocsp\t
# 98 lines: log/5890 log/5892 log/5894
^tls_(?:in|out)_ver\t
# 81 lines: log/5890 log/5891 log/5892 log/5893 log/5894 log/5895
^tls_in_resumption\t
# 81 lines: log/5890 log/5891 log/5892 log/5893 log/5894 log/5895
^tls_out_resumption (?:session resumed|client requested new ticket|client offered session|not requested or offered|no client request)
# 3 lines: log/1148
^tls_in_cipher TLS
# 138 lines: log/0612 log/3418 log/3419 log/5700 log/5701 log/5704 log/5705 log/5706 ...
#   "logwrite = event $event_name" of an event_action ACL (test/aux-fixed/event-logger-acl)
^event (?:tcp|smtp|msg|auth|dns|tls):[a-z:]+(?: data ".*")?$
# 2 lines: log/5711 log/5721
^EVDATA:
# 2 lines: log/5711 log/5721
^EV tls:
# 12 lines: log/5710 log/5720 log/5860 log/5880
^msg:(?:delivery|host:defer)
# 32 lines: log/0601
^msg$
# 106 lines: log/3418 log/3419 log/5700 log/5701 log/5704 log/5705 log/5706 log/5707 ...
#   the event-logger ACL's detail lines, all starting ". "
^\. (?:\[|banner <|ehlo-resp <|finished: |"auth fail" |delivery ip <|host deferral ip <|message deferral ip <|rcpt deferral ip <|refused by fdqn <|local_part <)
# 21 lines: log/4012 log/4013 log/4014 log/4040 log/5710 log/5720
^\[[^\]\s]+\](?::\d+)? (?:WELLKNOWN |-> '|depth=\d |malware_name )
# 80 lines: log/4500 log/4501 log/4502 log/4503 log/4504 log/4506 log/4508 log/4509 ...
#   ${authresults ...} expanded into a logwrite (DKIM/SPF/DMARC/ARC tests)
^Authentication-Results:
# 1 line: log/0571
^authresults: Authentication-Results:
# 50 lines: log/4500 log/4501 log/4502 log/4503 log/4504 log/4506 log/4520 log/4521 ...
^signer: \S+ bits: \d+
# 39 lines: log/4510 log/4513 log/4514 log/4515 log/4530 log/4533 log/4534 log/4535 ...
^dkim_acl: signer:
# 78 lines: log/4510 log/4513 log/4514 log/4515 log/4516 log/4530 log/4533 log/4534 ...
^(?:rcpt|data)[ _]acl: (?:macro: |dkim status)
# 15 lines: log/4500 log/4501 log/4502 log/4506 log/4540
^dkim_state (?:DOES NOT )?include
# 14 lines: log/4500 log/4501 log/4502 log/4503 log/4504 log/4540
^dkim_status includes
# 8 lines: log/4508 log/4528
^overall \$dkim_verify_status:
# 2 lines: log/4500 log/4520
^NOTE: forcing dkim verify fail
# 200 lines: log/4560 log/4561 log/4562 log/4563 log/4565 log/4566 log/4690
#   ARC tests: ACL logwrite of arc_* variables and headers
^(?:arc_state|domains|reason|lh_A-R|lh-AAR|oldest-p-AAR): +<
# 36 lines: log/4560 log/4561 log/4562 log/4563 log/4565 log/4566 log/4690
^arc_oldest_pass <
# 30 lines: log/4650 log/4690
^dmarc_(?:status|status_text|used_domain|domain_policy|alignment_spf|alignment_dkim) <
# 14 lines: log/4600 log/4608
^spf_result\b
# 50 lines: log/5820 log/5821 log/5840 log/5841 log/5861 log/5881
^"rcpt ACL(?::[^"]*)?"$
# 44 lines: log/5400 log/5404 log/5405 log/5406 log/5407 log/5408 paniclog/0021
^rcpt (?:for \S+$|accepted C=)
# 35 lines: log/5601 log/5611 log/5651 log/5730 log/5740 log/5847
^client (?:claims: (?:ocsp|OCSP) status|ocsp status: )
# 23 lines: log/5600 log/5610 log/5612 log/5615 log/5650 log/5665 log/5670
^acl_(?:conn|mail): ocsp in status:
# 18 lines: log/2002 log/2102 log/2102.openssl_1_1_1 log/2132 log/5710 log/5720
^Our cert SN:
# 7 lines: log/2002 log/2102 log/2102.openssl_1_1_1 log/5710 log/5720
^Peer cert:$
# 12 lines: log/2002 log/2102 log/2102.openssl_1_1_1 log/2132
^Peer did not present a cert$
# 2 lines: log/5710 log/5720
^No Peer cert$
# 4 lines: log/5710 log/5720
^NO CLIENT CERT presented$
# 4 lines: log/1102 log/5680
^server cert:
# 19 lines: log/5710 log/5720 log/5860 log/5880
^tls:cert depth ?= ?\d+ <
# 87 lines: log/1113 log/2002 log/2031 log/2102 log/2102.openssl_1_1_1 log/2131 log/2132 log/5710 ...
#   certificate-field tests: ${certextract ...} written by logwrite
^(?:SN|SN;|SNO|IN|IN/O|NA|NB|NA/i|NB/i|NB/r|SA|SG|SR|SAN|CRU|OCU|SNI) +<
# 2 lines: log/5710
^SNCN<
# 8 lines: log/2002 log/2102 log/2102.openssl_1_1_1 log/5720
^\(no (?:CRU|OCU|SAN)\)$
# 32 lines: log/2002 log/2102 log/2102.openssl_1_1_1 log/5710 log/5720
^(?:ver|ver:|cipher:|cipher_)(?:$| )
# 9 lines: log/2002 log/2102 log/2102.openssl_1_1_1
^(?:md5|sha1|sha256) +fingerprint [0-9A-F]+$
# 3 lines: log/2002 log/2102 log/2102.openssl_1_1_1
^der_b64
# 8 lines: log/5710 log/5720
^(?:TLS1\.x:\S+ )?smtp:ehlo \d{3}-
# 18 lines: log/5861 log/5881
^dane:fail <
# 1 line: log/1149
^HELO <[^>]*> SNI <
# 27 lines: log/4030 log/4032 log/4034
^proxy (?:session: +(?:yes|no)|(?:internal|external) +\[)
# 18 lines: log/4030 log/4032 log/4034
^(?:local|remote) +\[[^\]]*\]:\d+$
# 6 lines: log/4032 log/4034
^tls session: +(?:yes|no)$
# 7 lines: log/4020 log/4021 log/4027
^pla \S* ?plp \S+ pea \S* ?pep \d+$
# 12 lines: log/4006 log/4007 log/4008 log/4009 log/4010 log/4011 log/4017
^malware_name
# 30 lines: log/0485 log/0486
^at (?:HELO|MAIL|RCPT|DATA)\b[^:]*: >.*<$
# 20 lines: log/0026 log/0162 log/0214 log/0365 log/0465 log/0471 log/0560 log/4004 ...
^qualify/rewrite:
# 16 lines: log/4110
^"should [^"]*" (?:not )?first delivery$
# 34 lines: log/4110
#   a system filter's logwrite ("$h_subject" first delivery)
^"[^"]*" first delivery$
# 1 line: log/0613
^"Network error" here is expected
# 10 lines: log/0026
^\$h_from: '
# 3 lines: log/0635 log/0636
^\$recipients(?:_list)?: "
# 1 line: log/0635
^\$value after \$\{run
# 1 line: log/0635
^run-wrapped \$recipients:
# 8 lines: log/0619 log/0620
^\$\d+ '[^']*' +\$\d+ '
# 16 lines with the next one: log/0619 log/0620 (lookup tests: the domain and the value found)
^domain +\S+$
^value +(?:\S+|has this data)$
# 2 lines: log/0420
^"h: <
# 2 lines: log/0389
^"acl_(?:verify_message|m0)=
# 1 line: log/0496
^X-ACL-Warn:
# 6 lines: log/0576
^using queue '
# 6 lines: log/0583
^(?:router|transport) +was called for
# 4 lines: log/0583
^where='\w+' msg='
# 6 lines: log/0562
^NOTQUIT reason: '
# 14 lines: log/5711 log/5721
^ACL (?:conn|quit|notquit)$
# 12 lines: log/5711 log/5721
^eval host_reject_connection$
# 16 lines: log/0501 log/5612 log/5615 log/5650 log/5665 log/5670
^[1-9]: (?:[Pp]hil\.[Hh]azel (?:yes|no)|TLS1\.\d |Server |Connection functions )
# 16 lines: log/0502
^(?:Messages (?:received|accepted)|Accepted|Recipients): *\d*$
# 2 lines: log/0022
^Connections=\d+$
# 4 lines: log/0537
^={20,}$
# 32 lines: log/0537
^(?:sender_ip_address|sender_host_authenticated|authenticated_id|interface_address|sender_host_name|sender_ident|authenticated_sender|received_protocol)=
# 2 lines: log/0537
^\+\+\+ host is authenticated \+\+\+$
# 4 lines: log/0598
^queue_size: \d+$
# 4 lines: log/0021
^\d+\.\d+\.\d+\.\d+ accepted by connect ACL$
# 3 lines: log/0699
^Check that (?:delivery of old-format spoolfiles|the format-mangler utility)
# 1 line: log/0699
^done$
# 7 lines: log/5703 log/5709
^M <dns:fail> |^T <dns:fail> |^<dns:fail>
# 6 lines: log/0021 rejectlog/0021
^mail accepted "
# 2 lines: log/0471
^verify header_syntax fails$
# 2 lines: log/0485
^Expansions:
# 3 lines: log/0526
^(?:SET \d+|START): >.*< >(?:not )?defined<$
# 2 lines: log/0586
^helo \S+ dnssec <
# 12 lines: log/0600
^x-test-header-[\w-]+:
# 5 lines: log/0624 log/4506 log/4526
^(?:localhost|the\.local\.host\.name|unknown)$
# 6 lines: log/3700 log/3720 log/3721
^Auth ACL called, after smtp cmd "
# 6 lines: log/5500
^prdr_requested: <
# 6 lines: log/9400 paniclog/9400 rejectlog/9400
^test write to LOG_(?:MAIN|PANIC|REJECT)$
# 5 lines: log/3418 log/3419 rejectlog/3418
#   auth:fail event ACL returning its own text; it says "authenticator failed" but is test text
^custom-message:
# 6 lines: log/0612
^(?:rej|accept|fakereject|defer)/(?:never|success|delay|failure\+delay)$
# 1 line: log/0612
^playout$
# 1 line: log/0612
^deliver DSN$
# 1 line: log/0552
^Accept non-SMTP$
# 1 line: log/0579
^cmd '
# 4 lines: log/0581
^test\d$
# 1 line: log/0602
^This argument written, with newline, to log$
# 1 line: log/3400
^acl_c0: '
# 2 lines: log/4601
^\S+@\S+ \[[^\]]*\] lookup: '
# 1 line: log/5702
^Denying tcp connection$
# 7 lines: log/0211
^Test: (?:temp-rej|reject|drop conn|smtp-reject)
# 8 lines: log/0376 log/0578
^\(random\)$
# 1 line: log/0509
^rbl\.test\.ex/<;
# 1 line: log/0509
^test\.ex/a\.b\.c\.d::
# 6 lines: log/2112
^this will (?:fail|pass) to verify the cert|^this will pass the cert verify
# 2 lines: log/3000
#   a Perl warn() from the embedded-Perl test, logged as is
^this is a warning at \S+\.pl line \d+\.$
# 8 lines: log/4508 log/4528
#   test/confs/4508: "logwrite = DKIM: acl called - signer: ..." (looks like a DKIM: line, is not one)
^DKIM: acl called - signer:
# 16 lines: log/4600 log/4608 log/5710
#   a logwrite of an empty string: a prefix and nothing else
^$
