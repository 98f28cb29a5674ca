// Command medoffice-ferretdb runs FerretDB 1.x embedded, for tests: on PostgreSQL when given
// -postgresql-url (the default of infra/infra.sh), else on SQLite in -data-dir.
//
// A plain `go install` of FerretDB 1.24 panics at start because build/version/version.txt is
// generated at release time and missing from the module; the embeddable package does not need it.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "./ferretdb-data", "directory for the SQLite databases")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL URL; empty: SQLite in -data-dir")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		log.Fatalf("bad log level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	config := ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
	}
	if *postgresURL != "" {
		config.Handler = "postgresql"
		config.PostgreSQLURL = *postgresURL
	} else {
		if err := os.MkdirAll(*dataDir, 0o755); err != nil {
			log.Fatalf("cannot create data dir: %v", err)
		}
		config.Handler = "sqlite"
		config.SQLiteURL = "file:" + *dataDir + "/"
	}

	f, err := ferretdb.New(&config)
	if err != nil {
		log.Fatalf("cannot start FerretDB: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatalf("FerretDB stopped: %v", err)
	}
}
