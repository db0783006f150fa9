# OPTIONS

*-c, --config* _FILE_
	The configuration file. Default: _/etc/waddlebot/waddle.yaml_. When the default file does
	not exist the daemon runs on defaults and the environment; a file named with *-c* must exist.

*--check-config*
	Load and validate the configuration, print every error with its key and line, and exit:
	0 when it is valid, 2 when it is not.

*--print-default-config*
	Print the commented default configuration of @BINARY@: the shared sections and
	*@SECTION@*, every key with its type, bounds, default and environment variable.

*-V, --version*
	Print the version and exit.

*-h, --help*
	Print the options and exit.

# CONFIGURATION

@BINARY@ reads the shared sections *database*, *redis* and *log* and its own section
*@SECTION@* of *waddle.yaml*(5); it skips the other daemons' sections. Its own keys:

@DAEMON_KEYS@

# SIGNALS

*SIGHUP*
	Reload the configuration file. A file with errors is refused, logged, and the running
	configuration kept. systemd sends it for *systemctl reload @UNIT@*.

*SIGTERM*, *SIGINT*
	Stop accepting work, finish or hand back what is in flight within
	*@SECTION@.shutdown\_timeout*, then exit 0.

# SYSTEMD

The unit *@UNIT@.service* runs @BINARY@ as *Type=notify*: it sends *READY=1* once its
listeners are bound and its dependencies answered, *RELOADING=1* and *READY=1* around a reload,
*STOPPING=1* on *SIGTERM*, and *WATCHDOG=1* at half of *WatchdogSec=* from its event loop, so a
stuck daemon is restarted. Exit status 2 (a bad configuration) is not restarted. Without
*NOTIFY\_SOCKET* (run by hand) none of this is sent. Logs go to standard error, without
timestamps, for the journal: *journalctl -u @UNIT@*.

# ADMIN SOCKET

@BINARY@ serves a Unix socket, _/run/waddlebot/@SECTION@.sock_ by default
(*@SECTION@.admin\_socket*), mode 0660 in a 0750 directory of group *waddlebot*. One JSON object
per line: a request *{"command": "status", "arguments": {}}* gets
*{"result": 0, "text": "...", "arguments": {}}* (result 0 success, 1 error, 2 unsupported,
3 empty, 4 conflict). The caller's uid goes into the audit log. *waddle ctl @SECTION@* _command_
sends one. Every daemon answers:

*list-commands*
	Every command with its access (read or write).

*help* [*{"command": NAME}*]
	One-line summaries.

*status*
	Daemon, version, pid, uptime, state, configuration file, log level and the daemon's own
	fields.

*stats*
	The daemon's counters.

*version*
	The version.

*config-get*
	The running configuration, secrets shown as *\*\*\*\*\*\*\*\**.

*config-test*
	Re-read the configuration file and report every error without applying it.

*reload*
	Reload the configuration file, as *SIGHUP* does.

*log-level* [*{"level": LEVEL}*]
	Show or set the log level: trace, debug, info, warning, error, critical, off.

*list-commands* on the running daemon also shows the commands of @BINARY@ itself.

# EXIT STATUS

*0*
	Clean exit (after *SIGTERM*, or *--check-config* on a valid file).

*1*
	Runtime failure: a dependency could not be reached at start, or an unexpected error.

*2*
	Bad options or configuration; systemd does not restart it (*RestartPreventExitStatus=2*).

# ENVIRONMENT

*WADDLE\_*_SECTION_*\_*_KEY_, *WADDLE\_*_SECTION_*\_*_KEY_*\_FILE*
	Override a key of the configuration file, or give a secret key's file.

*CREDENTIALS\_DIRECTORY*
	Set by systemd for *LoadCredential=*: a secret _section.key_ is read from the file of that
	name.

*NOTIFY\_SOCKET*, *WATCHDOG\_USEC*, *WATCHDOG\_PID*
	Set by systemd for the readiness and watchdog protocol.

# FILES

_/etc/waddlebot/waddle.yaml_
	The configuration file.

_/etc/waddlebot/waddle.env_, _/etc/waddlebot/@UNIT@.env_
	Optional environment files the unit reads (secrets as *WADDLE\_...=* lines, mode 0640).

_/etc/credstore/<section>.<key>_
	Optional systemd credentials for the secret keys.

_/run/waddlebot/@SECTION@.sock_
	The admin socket.

_/var/lib/waddlebot/_
	The state directory.

_/usr/lib/systemd/system/@UNIT@.service_
	The unit; local changes go in a drop-in (*systemctl edit @UNIT@*).
