# phitrace - GNU Makefile. `make help` lists the targets.
.DEFAULT_GOAL := all
SHELL := /bin/bash

# Parallel by default: -j(number of cores) unless -j/--jobs was given, on the command line or
# in MAKEFLAGS (GNU make 4.3 does not show -j in MAKEFLAGS while it reads the makefile, so the
# command line is read from /proc). Sub-makes ($(MAKE) in recipes) share the jobserver.
ifeq ($(MAKELEVEL),0)
JOBS_GIVEN := $(shell { tr '\0' '\n' < /proc/$$PPID/cmdline; \
                printenv MAKEFLAGS | sed 's/^\([^-]\)/-\1/' | tr ' ' '\n'; } 2>/dev/null | \
                grep -E -- '^(-[^-=]*j|--jobs)')
ifeq ($(JOBS_GIVEN),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
endif

# One short line per file (`CC analyzer/x.c`, `LD phitrace`); V=1 prints the commands, -s
# nothing.
ifeq ($(V),1)
Q :=
say = @true
else ifneq ($(findstring s,$(filter-out -%,$(firstword $(MAKEFLAGS)))),)
Q := @
say = @true
else
Q := @
say = @printf '%s %s\n' '$(1)' '$(2)'
endif

CC ?= cc
PKGS := libpcap libmagic yara sqlite3 zlib libcrypto libarchive tsk libewf libqcow libmaxminddb
# Debian packages. `make deps`: building and running (DEB_BUILD_PKGS pull in the runtime
# libraries of DEB_RUNTIME_PKGS; 7z and nfdump are optional helpers at run time). `make test-deps`:
# what the tests, the fuzzers, the benchmarks and `make lint` use besides.
DEB_BUILD_PKGS := build-essential pkg-config libpcap-dev libmagic-dev libyara-dev libsqlite3-dev \
                  zlib1g-dev libssl-dev libarchive-dev libtsk-dev libewf-dev libqcow-dev \
                  libmaxminddb-dev libevtx-dev
DEB_RUNTIME_PKGS := libpcap0.8 libmagic1 libyara9 libsqlite3-0 zlib1g libssl3 libarchive13 \
                    libtsk19 libewf2 libqcow1 libmaxminddb0 libevtx1 p7zip-full nfdump
DEB_TEST_PKGS := libcmocka-dev sqlite3 python3 clang cppcheck tshark tcpflow yara time bc dcmtk \
                 tcpdump iproute2 util-linux chromium poppler-utils python3-jsonschema curl \
                 swaks python3-pyftpdlib python3-pydicom python3-openpyxl python3-docx \
                 lftp wget vsftpd nginx-light msmtp python3-aiosmtpd python3-requests \
                 python3-reportlab python3-odf fonts-dejavu-core \
                 libreoffice-writer-nogui libreoffice-calc-nogui \
                 sleuthkit mtools ntfs-3g libhivex-bin \
                 samba smbclient dnsmasq-base python3-hl7 socat iodine ptunnel-ng \
                 man-db groff-base zsh libmaxmind-db-writer-perl softflowd parallel \
                 slurm-wlm munge libevtx-utils python3-evtx
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wimplicit-fallthrough
ifeq ($(WERROR),1)
WARN += -Werror
endif
PREFIX ?= /usr/local
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -DPT_GIT_COMMIT='"$(GIT_COMMIT)"' \
               -DPT_DATADIR='"$(PREFIX)/share/phitrace"' -MMD -MP
OPT_CFLAGS ?= -O2 -g
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

# Sources per stage.
# Every .c file of a stage's folder is part of it: a new decoder or heuristic is its file
# (and its line in analyze/app.c's table or verdict/heuristics.def), no list to edit here.
stage_src = $(sort $(wildcard analyzer/$(1)/*.c))
CORE_SRC := $(call stage_src,core)
INGEST_SRC := $(call stage_src,ingest)
DECODE_SRC := $(call stage_src,decode)
FLOW_SRC := $(call stage_src,flow) $(call stage_src,reassemble)
ANALYZE_SRC := $(call stage_src,analyze)
PHI_SRC := $(call stage_src,phi)
VERDICT_SRC := $(call stage_src,verdict)
STORE_SRC := $(call stage_src,store)
REPORT_SRC := $(call stage_src,report)
APP_SRC := analyzer/pipeline.c analyzer/reader.c analyzer/worker.c analyzer/writer.c \
           analyzer/casedir.c analyzer/progress.c analyzer/verify.c
SCALE_SRC := $(call stage_src,scale)
LIB_SRC := $(CORE_SRC) $(INGEST_SRC) $(DECODE_SRC) $(FLOW_SRC) $(ANALYZE_SRC) $(PHI_SRC) $(VERDICT_SRC) $(STORE_SRC) $(REPORT_SRC) $(APP_SRC) $(SCALE_SRC)
MAIN_SRC := analyzer/main.c

UNIT_TESTS := test_cursor test_arena test_decode test_defrag test_flow test_memcap test_db test_addr test_source \
              test_reasm test_multipart test_mimehdr test_objstore test_unpack test_doctext test_ingest \
              test_typer test_phi test_segment test_yara test_beacon test_tunnel test_logparse test_anomaly \
              test_image test_passwords test_communityid test_plan test_netflow test_records test_q_report \
              test_evtx test_atna test_hostinfer test_links
FUZZ_TARGETS := fuzz_decode fuzz_http fuzz_dns fuzz_tls fuzz_hl7 fuzz_dicom fuzz_ftp fuzz_smtp fuzz_smb fuzz_websocket fuzz_ssh \
                fuzz_mimehdr \
                fuzz_phi_dicom fuzz_phi_hl7 fuzz_phi_csv fuzz_phi_fhir fuzz_phi_scan \
                fuzz_unpack fuzz_doctext fuzz_tunnel fuzz_logparse fuzz_image_frames \
                fuzz_passwords fuzz_plan fuzz_recycle fuzz_netflow fuzz_browser fuzz_evtx fuzz_atna fuzz_regf

# Two build flavours: release in build/rel, sanitized (for tests) in build/san.
REL := build/rel
SAN := build/san
rel_obj = $(patsubst %.c,$(REL)/%.o,$(1))
san_obj = $(patsubst %.c,$(SAN)/%.o,$(1))

# The schema version (PRAGMA user_version) is the first 28 bits of the schema's SHA-256, so
# any change to the schema makes older cases say so instead of failing on a missing column.
$(REL)/schema.c $(SAN)/schema.c: analyzer/store/schema.sql
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)
	$(Q){ echo '/* generated from analyzer/store/schema.sql */'; \
	   echo 'const char pt_schema_sql[] ='; \
	   sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' $<; \
	   echo ';'; \
	   echo 'extern const int pt_schema_version;'; \
	   echo "const int pt_schema_version = 0x$$(sha256sum $< | cut -c1-7);"; } > $@

$(REL)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) $(PKG_CFLAGS) -c $< -o $@
$(SAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$< (san))
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(REL)/schema.o: $(REL)/schema.c
	$(call say,CC,$<)
	$(Q)$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -c $< -o $@
$(SAN)/schema.o: $(SAN)/schema.c
	$(call say,CC,$<)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) -c $< -o $@

# The objects that compile in PREFIX (PT_DATADIR) or the commit are rebuilt when either changes.
BUILD_ID := $(PREFIX) $(GIT_COMMIT)
ifneq ($(shell cat build/id 2>/dev/null),$(BUILD_ID))
$(shell mkdir -p build && echo '$(BUILD_ID)' > build/id)
endif
$(call rel_obj,analyzer/pipeline.c analyzer/report/report.c) \
$(call san_obj,analyzer/pipeline.c analyzer/report/report.c): build/id

REL_LIB_OBJ := $(call rel_obj,$(LIB_SRC)) $(REL)/schema.o
SAN_LIB_OBJ := $(call san_obj,$(LIB_SRC)) $(SAN)/schema.o

phitrace: $(REL_LIB_OBJ) $(call rel_obj,$(MAIN_SRC)) | phitrace-evtx
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT_CFLAGS) -o $@ $(filter %.o,$^) $(PKG_LIBS) -lpthread -lm

$(SAN)/phitrace: $(SAN_LIB_OBJ) $(call san_obj,$(MAIN_SRC)) | $(SAN)/phitrace-evtx
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $(filter %.o,$^) $(PKG_LIBS) -lpthread -lm

# The EVTX reader (analyzer/evtx_reader.c): a program of its own beside phitrace, linked with
# libevtx alone (libewf's copy of libfvalue would otherwise stand in for libevtx's).
EVTX_LIBS = $(shell pkg-config --libs libevtx 2>/dev/null || echo -levtx)
phitrace-evtx: $(call rel_obj,analyzer/evtx_reader.c)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT_CFLAGS) -o $@ $^ $(EVTX_LIBS)
$(SAN)/phitrace-evtx: $(call san_obj,analyzer/evtx_reader.c)
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(EVTX_LIBS)

build/phi_bench: tests/bench/phi_bench.c $(REL_LIB_OBJ)
	$(call say,LD,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) $(PKG_CFLAGS) -Ianalyzer $< -o $@ $(REL_LIB_OBJ) \
	    $(PKG_LIBS) -lpthread -lm

$(SAN)/tests/unit/%: tests/unit/%.c $(SAN_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) $(PKG_CFLAGS) -Ianalyzer -DSIGNATURES_DIR='"signatures"' \
	    $< -o $@ $(SAN_LIB_OBJ) $(PKG_LIBS) -lcmocka -lpthread -lm

# Fuzz targets: a replay driver (gcc + sanitizers) for `make test`, libFuzzer (clang) for `make fuzz`.
$(SAN)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(SAN_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) $(PKG_CFLAGS) -Ianalyzer $< tests/fuzz/replay_main.c \
	    -o $@ $(SAN_LIB_OBJ) $(PKG_LIBS) -lpthread -lm

FUZZ_DIR := build/fuzz
FUZZ_LIB_SRC := $(LIB_SRC)
$(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_LIB_SRC) $(SAN)/schema.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@ (libFuzzer))
	$(Q)clang $(filter-out -MMD -MP,$(BASE_CFLAGS)) -g -O1 -fsanitize=fuzzer,address,undefined \
	    $(PKG_CFLAGS) -Ianalyzer $< $(FUZZ_LIB_SRC) $(SAN)/schema.c -o $@ $(PKG_LIBS) -lpthread -lm

.PHONY: all deps test-deps uninstall test test-live unit e2e fuzz-replay fuzz tsan bench bench-floor demo example samples format lint clean install help

all: phitrace ## build ./phitrace

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed 's/:.*## /\t/' | sort

# $(call apt_install,WHAT,PACKAGES): install the missing ones as root, else print the command.
define apt_install
	@missing=$$(for p in $(2); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "$(1): all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	    echo "$(1): missing packages:$$(echo $$missing)"; \
	    echo "$(1): run as root:  sudo apt-get install -y $$(echo $$missing)"; exit 1; \
	fi
endef

deps: ## install the Debian packages building and running need (as root; else prints the command)
	$(call apt_install,deps,$(DEB_BUILD_PKGS) $(DEB_RUNTIME_PKGS))

test-deps: ## install the Debian packages the tests, fuzzers and lint need besides (as root)
	$(call apt_install,test-deps,$(DEB_TEST_PKGS))

unit: $(addprefix $(SAN)/tests/unit/,$(UNIT_TESTS)) ## cmocka unit tests under ASan/UBSan
	@fail=0; for t in $^; do echo "== $$t"; $$t 2>&1 || fail=1; done; exit $$fail

fuzz-replay: $(addprefix $(SAN)/tests/fuzz/,$(FUZZ_TARGETS)) ## replay fuzz seeds, each cut at every offset
	@fail=0; for t in $(FUZZ_TARGETS); do \
	    $(SAN)/tests/fuzz/$$t -t tests/fuzz/corpus/$${t#fuzz_} || fail=1; done; exit $$fail

e2e: $(SAN)/phitrace phitrace build/gen_samples ## end-to-end tests (binary on samples/ and ../shared/corpus)
	@PHITRACE=$(SAN)/phitrace python3 tests/e2e/run_e2e.py

TEST_PREREQS := $(addprefix $(SAN)/tests/unit/,$(UNIT_TESTS)) \
                $(addprefix $(SAN)/tests/fuzz/,$(FUZZ_TARGETS)) $(SAN)/phitrace phitrace build/gen_samples
test: $(TEST_PREREQS) ## everything, under AddressSanitizer and UBSan (make test-deps first)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-replay
	@$(MAKE) --no-print-directory e2e

fuzz: $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS)) ## run each libFuzzer target for FUZZ_SECONDS (default 60)
	@for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz-corpus/$$t; \
	    $(FUZZ_DIR)/$$t -max_total_time=$${FUZZ_SECONDS:-60} build/fuzz-corpus/$$t \
	        tests/fuzz/corpus/$${t#fuzz_} || exit 1; done

TSAN := build/tsan
$(TSAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$< (tsan))
	$(Q)$(CC) $(BASE_CFLAGS) -O1 -g -fsanitize=thread $(PKG_CFLAGS) -c $< -o $@
$(TSAN)/schema.c: analyzer/store/schema.sql $(REL)/schema.c
	@mkdir -p $(dir $@)
	$(Q)cp $(REL)/schema.c $@
$(TSAN)/schema.o: $(TSAN)/schema.c
	$(call say,CC,$<)
	$(Q)$(CC) $(BASE_CFLAGS) -O1 -g -fsanitize=thread -c $< -o $@
$(TSAN)/phitrace: $(patsubst %.c,$(TSAN)/%.o,$(LIB_SRC) $(MAIN_SRC)) $(TSAN)/schema.o
	$(call say,LD,$@)
	$(Q)$(CC) -fsanitize=thread -o $@ $^ $(PKG_LIBS) -lpthread -lm

tsan: $(TSAN)/phitrace ## ThreadSanitizer: analyze the samples and the gzip capture on 4 threads
	@rm -rf build/tsan-case && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	    $(TSAN)/phitrace analyze -q -j 4 --force --home-net 10.1.0.0/16 samples/evidence \
	    -o build/tsan-case && echo "tsan: samples on 4 threads, no report"

bench: phitrace ## throughput and memory against tcpflow and tshark (not part of test)
	@bash tests/bench/run_bench.sh

bench-floor: phitrace ## what issues 14 and 16's throughput targets leave: peers' and SQLite's floors
	@bash tests/bench/floor_bench.sh

samples: build/gen_samples ## regenerate samples/evidence/ (byte-identical)
	@mkdir -p samples/evidence
	build/gen_samples samples/evidence samples/ground-truth.json

build/gen_samples: samples/gen/gen_samples.c
	@mkdir -p build
	$(call say,CC,$<)
	$(Q)$(CC) $(BASE_CFLAGS) -O2 $< -o $@ $(shell pkg-config --libs libpcap zlib libcrypto)

test-live: phitrace ## real clients (FTP, HTTP, SMTP, SMB, DICOM, HL7, DNS tunnels) in a private network namespace, and a single-node Slurm running shards and merge (root)
	@python3 tests/live/run_live.py
	@python3 tests/live/live_slurm.py

demo: ## install deps, build, analyze samples/, print the verdict line and the report path
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory phitrace
	@./phitrace analyze --quiet --force --home-net 10.1.0.0/16 samples/evidence -o build/demo-case
	@grep -A1 '^Verdict:' build/demo-case/summary.txt
	@echo "Report: build/demo-case/report.html (also report.json, report.txt, evidence.db)"

example: ## refresh reports/example/ from the demo case (the committed reference report)
	@$(MAKE) --no-print-directory phitrace
	@./phitrace analyze --quiet --force --home-net 10.1.0.0/16 samples/evidence -o build/demo-case
	@mkdir -p reports/example/report
	cp build/demo-case/report.html build/demo-case/report.json build/demo-case/report.txt \
	    build/demo-case/summary.txt reports/example/
	cp build/demo-case/report/*.jsonl.gz reports/example/report/

format: ## clang-format every C file
	clang-format -i $$(git ls-files '*.c' '*.h')

# Functions that read or write untrusted text without bounds or error checks: never in the
# analyzer (use snprintf, pt_text_uints, strtol with its end pointer, memcpy with a length).
BANNED := atoi|atol|atoll|sscanf|vsscanf|strcat|strncat|strcpy|strncpy|sprintf|vsprintf|gets

lint: ## cppcheck over the analyzer, no banned function (BANNED), no function over 150 lines, no SQL outside store/ but tools/store_open.allow
	@sh tools/store_closed.sh
	cppcheck --quiet --enable=warning,performance,portability --std=c11 --error-exitcode=1 \
	    --suppress=missingIncludeSystem analyzer
	@if grep -rnE '(^|[^a-z_0-9])($(BANNED))[[:space:]]*\(' analyzer --include='*.c' \
	        --include='*.h'; then \
	    echo "lint: banned function above (BANNED in the Makefile says what to use)"; exit 1; fi
	@python3 tools/funclen.py --max 150 --allow tools/funclen.allow $(LIB_SRC) $(MAIN_SRC) analyzer/evtx_reader.c

# What `make install` puts under PREFIX: SRC:DEST:MODE, DEST relative to PREFIX.
INSTALL_LIST := phitrace:bin/phitrace:0755 phitrace-evtx:bin/phitrace-evtx:0755 \
    $(foreach f,$(sort $(shell find signatures -type f)),$(f):share/phitrace/$(f):0644) \
    $(foreach f,$(sort $(wildcard reports/schema/*.json)),$(f):share/phitrace/schema/$(notdir $(f)):0644) \
    analyzer/doc/phitrace.1:share/man/man1/phitrace.1:0644 \
    analyzer/doc/phitrace.bash-completion:share/bash-completion/completions/phitrace:0644 \
    analyzer/doc/_phitrace:share/zsh/vendor-completions/_phitrace:0644 \
    README.md:share/doc/phitrace/README.md:0644

install: phitrace phitrace-evtx ## install the binary, signatures, schemas, man page, completions, README under $(DESTDIR)$(PREFIX)
	@bash tools/install.sh install '$(DESTDIR)' '$(PREFIX)' $(INSTALL_LIST)

uninstall: ## remove exactly what `make install` put (its manifest share/phitrace/installed)
	@bash tools/install.sh uninstall '$(DESTDIR)' '$(PREFIX)' $(INSTALL_LIST)

clean:
	rm -rf build phitrace phitrace-evtx

-include $(shell find build -name '*.d' 2>/dev/null)
