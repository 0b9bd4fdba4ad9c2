package config

// Samsa's broker defaults differ from Kafka 4.2's where an embedded,
// single-node start needs them to; every other default is Kafka's:
//
//	config                                    Kafka 4.2           Samsa
//	node.id                                   (required)          1
//	process.roles                             (required)          broker,controller
//	controller.listener.names                 (required)          CONTROLLER
//	listeners                                 PLAINTEXT://:9092   PLAINTEXT://:9092,CONTROLLER://:9093
//	log.dir                                   /tmp/kafka-logs     ./data
//	offsets.topic.replication.factor          3                   1
//	transaction.state.log.replication.factor  3                   1
//	transaction.state.log.min.isr             2                   1
//	metrics.listen                            (not Kafka's)       :9644
//
// The replication factors match the values of Kafka's own single-node
// config/server.properties. log.dirs stays unset, as in Kafka, so that a
// log.dir of the user's still takes effect; the data directory is log.dirs
// if set, else log.dir.
func brokerDefs() []Def {
	var defs []Def
	for _, part := range [][]Def{
		serverDefs(), networkDefs(), logDefaultDefs(), logCleanerDefs(),
		replicationDefs(), coordinatorDefs(), securityDefs(), compatDefs(),
	} {
		defs = append(defs, part...)
	}
	return defs
}

// serverDefs: identity, roles, listeners, the metadata quorum, topic
// creation defaults.
func serverDefs() []Def {
	return []Def{
		{Name: "node.id", Type: TypeInt, Default: "1", HasDefault: true,
			Validator: AtLeast(0), Importance: High, Mode: ReadOnly,
			Doc: "The id of this node, broker and controller alike. Samsa defaults it to 1; Kafka requires it."},
		{Name: "broker.id", Type: TypeInt, Default: "-1", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "The old name of node.id; if set it must equal node.id."},
		{Name: "process.roles", Type: TypeList, Default: "broker,controller", HasDefault: true,
			Validator: All(NonEmptyList(), EachOf("broker", "controller")), Importance: High, Mode: ReadOnly,
			Doc: `The roles of this node: "broker", "controller" or both. Samsa defaults to both; Kafka requires it.`},
		{Name: "listeners", Type: TypeList, Default: "PLAINTEXT://:9092,CONTROLLER://:9093", HasDefault: true,
			Validator: All(NonEmptyList(), listenersValidator), Importance: High, Mode: PerBroker,
			Doc: "The addresses to listen on, as NAME://host:port; an empty host binds every interface. A name that is not a security protocol needs listener.security.protocol.map. Samsa adds CONTROLLER://:9093 to Kafka's default."},
		{Name: "advertised.listeners", Type: TypeList,
			Validator: listenersValidator, Importance: High, Mode: ReadOnly,
			Doc: "The addresses published to clients and other brokers, when they differ from listeners (behind NAT or a load balancer). Defaults to listeners; 0.0.0.0 may not be advertised."},
		{Name: "listener.security.protocol.map", Type: TypeString,
			Default: "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT", HasDefault: true,
			Validator: protocolMapValidator, Importance: Low, Mode: PerBroker,
			Doc: "The security protocol of each listener name, as NAME:PROTOCOL pairs. A controller listener name with no entry uses PLAINTEXT, as in Kafka's KRaft mode."},
		{Name: "controller.listener.names", Type: TypeList, Default: "CONTROLLER", HasDefault: true,
			Validator: NonEmptyList(), Importance: High, Mode: ReadOnly,
			Doc: "The names of the listeners the controller uses; a broker reaches the quorum through the first. Samsa defaults to CONTROLLER; Kafka requires it."},
		{Name: "inter.broker.listener.name", Type: TypeString, Importance: Medium, Mode: ReadOnly,
			Doc: "The listener brokers use to talk to each other; if unset, the one of security.inter.broker.protocol. Set at most one of the two."},
		{Name: "security.inter.broker.protocol", Type: TypeString, Default: "PLAINTEXT", HasDefault: true,
			Validator: OneOf(securityProtocols...), Importance: Medium, Mode: ReadOnly,
			Doc: "The security protocol between brokers, when inter.broker.listener.name is unset."},
		{Name: "controller.quorum.voters", Type: TypeList, Default: "", HasDefault: true,
			Validator: votersValidator, Importance: High, Mode: ReadOnly,
			Doc: "The static voter set of the metadata quorum, as id@host:port entries. Leave unset to use controller.quorum.bootstrap.servers."},
		{Name: "controller.quorum.bootstrap.servers", Type: TypeList, Default: "", HasDefault: true,
			Validator: hostPortListValidator, Importance: High, Mode: ReadOnly,
			Doc: "host:port endpoints used to discover the metadata quorum."},
		{Name: "controller.quorum.election.timeout.ms", Type: TypeInt, Default: "1000", HasDefault: true,
			Validator: AtLeast(0), Importance: High, Mode: ReadOnly,
			Doc: "How long a voter waits without hearing from the leader before it starts an election."},
		{Name: "controller.quorum.election.backoff.max.ms", Type: TypeInt, Default: "1000", HasDefault: true,
			Validator: AtLeast(0), Importance: High, Mode: ReadOnly,
			Doc: "The longest backoff before a new election, for the exponential backoff that avoids split votes."},
		{Name: "controller.quorum.fetch.timeout.ms", Type: TypeInt, Default: "2000", HasDefault: true,
			Validator: AtLeast(0), Importance: High, Mode: ReadOnly,
			Doc: "How long a follower goes without a successful fetch from the leader before it becomes a candidate; also how long a leader goes without fetches from a majority before it resigns."},
		{Name: "controller.quorum.request.timeout.ms", Type: TypeInt, Default: "2000", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium, Mode: ReadOnly,
			Doc: "How long a quorum request waits for its response."},
		{Name: "controller.quorum.retry.backoff.ms", Type: TypeInt, Default: "20", HasDefault: true,
			Validator: AtLeast(0), Importance: Low, Mode: ReadOnly,
			Doc: "The wait before retrying a failed quorum request."},
		{Name: "controller.quorum.append.linger.ms", Type: TypeInt, Default: "25", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium, Mode: ReadOnly,
			Doc: "How long the quorum leader lets writes accumulate before it flushes them to disk."},
		{Name: "metadata.log.dir", Type: TypeString, Importance: High, Mode: ReadOnly,
			Doc: "The directory of the metadata log; if unset, the first data directory."},
		{Name: "metadata.log.segment.bytes", Type: TypeInt, Default: "1073741824", HasDefault: true,
			Validator: AtLeast(8388608), Importance: High, Mode: ReadOnly,
			Doc: "The size of one metadata log segment."},
		{Name: "metadata.log.segment.ms", Type: TypeLong, Default: "604800000", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "The age at which a metadata log segment rolls."},
		{Name: "metadata.max.retention.bytes", Type: TypeLong, Default: "104857600", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "The size of metadata log and snapshots above which old ones are deleted; a snapshot is always kept."},
		{Name: "metadata.max.retention.ms", Type: TypeLong, Default: "604800000", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "How long metadata log files and snapshots are kept; a snapshot is always kept."},
		{Name: "metadata.log.max.record.bytes.between.snapshots", Type: TypeLong, Default: "20971520", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ReadOnly,
			Doc: "How many bytes of metadata log past the latest snapshot trigger a new snapshot."},
		{Name: "metadata.log.max.snapshot.interval.ms", Type: TypeLong, Default: "3600000", HasDefault: true,
			Validator: AtLeast(0), Importance: High, Mode: ReadOnly,
			Doc: "The longest time committed records wait to be in a snapshot; 0 turns time-based snapshots off."},
		{Name: "metadata.max.idle.interval.ms", Type: TypeInt, Default: "500", HasDefault: true,
			Validator: AtLeast(0), Importance: Low, Mode: ReadOnly,
			Doc: "How often the active controller writes a no-op record to the metadata log; 0 for never."},
		{Name: "broker.heartbeat.interval.ms", Type: TypeInt, Default: "2000", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "The time between a broker's heartbeats to the controller."},
		{Name: "broker.session.timeout.ms", Type: TypeInt, Default: "9000", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "How long a broker stays registered without a heartbeat before the controller fences it."},
		{Name: "initial.broker.registration.timeout.ms", Type: TypeInt, Default: "60000", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "How long a starting broker tries to register with the controller before it gives up and exits."},
		{Name: "broker.rack", Type: TypeString, Importance: Medium, Mode: ReadOnly,
			Doc: "The rack of this broker, for rack-aware replica placement (e.g. us-east-1d)."},
		{Name: "num.partitions", Type: TypeInt, Default: "1", HasDefault: true,
			Validator: AtLeast(1), Importance: Medium, Mode: ReadOnly,
			Doc: "The partition count of topics created without one."},
		{Name: "default.replication.factor", Type: TypeInt, Default: "1", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "The replication factor of auto-created topics and of topics created with -1."},
		{Name: "auto.create.topics.enable", Type: TypeBoolean, Default: "true", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "Whether a Metadata request for an unknown topic creates it."},
		{Name: "delete.topic.enable", Type: TypeBoolean, Default: "true", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "Whether DeleteTopics is allowed; when false it is rejected."},
		{Name: "auto.leader.rebalance.enable", Type: TypeBoolean, Default: "true", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "Whether the controller periodically moves leadership back to preferred replicas."},
		{Name: "leader.imbalance.check.interval.seconds", Type: TypeLong, Default: "300", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ReadOnly,
			Doc: "How often the controller checks leader balance."},
		{Name: "controlled.shutdown.enable", Type: TypeBoolean, Default: "true", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "Whether a stopping broker first moves its leaderships away."},
		{Name: "metrics.listen", Type: TypeString, Default: ":9644", HasDefault: true,
			Validator: hostPortValidator, Importance: Medium, Mode: ReadOnly,
			Doc: `Samsa extension, not a Kafka config: the host:port of the Prometheus metrics endpoint; empty turns it off.`},
	}
}

// networkDefs: sockets, request limits and connection quotas.
func networkDefs() []Def {
	return []Def{
		{Name: "socket.request.max.bytes", Type: TypeInt, Default: "104857600", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ReadOnly,
			Doc: "The largest request the broker reads; a larger size closes the connection."},
		{Name: "connections.max.idle.ms", Type: TypeLong, Default: "600000", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "How long a connection may stay idle before the broker closes it."},
		{Name: "connections.max.reauth.ms", Type: TypeLong, Default: "0", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "When positive, the longest a SASL session lasts before the client must re-authenticate; 0 for no limit."},
		{Name: "connection.failed.authentication.delay.ms", Type: TypeInt, Default: "100", HasDefault: true,
			Validator: AtLeast(0), Importance: Low, Mode: ReadOnly,
			Doc: "How long the broker waits before closing a connection whose authentication failed."},
		{Name: "queued.max.requests", Type: TypeInt, Default: "500", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ReadOnly,
			Doc: "How many requests may wait for processing before the broker stops reading more."},
		{Name: "fetch.max.bytes", Type: TypeInt, Default: "57671680", HasDefault: true,
			Validator: AtLeast(1024), Importance: Medium, Mode: ReadOnly,
			Doc: "The most bytes one Fetch response returns."},
		{Name: "max.incremental.fetch.session.cache.slots", Type: TypeInt, Default: "1000", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium, Mode: ReadOnly,
			Doc: "How many incremental fetch sessions the broker keeps."},
		{Name: "max.connections", Type: TypeInt, Default: "2147483647", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium, Mode: ClusterWide,
			Doc: "The most connections the broker accepts at once."},
		{Name: "max.connections.per.ip", Type: TypeInt, Default: "2147483647", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium, Mode: ClusterWide,
			Doc: "The most connections from one IP address."},
		{Name: "max.connections.per.ip.overrides", Type: TypeString, Default: "", HasDefault: true,
			Importance: Medium, Mode: ClusterWide,
			Doc: `Per-host exceptions to max.connections.per.ip, as host:count pairs ("hostA:100,127.0.0.1:200").`},
		{Name: "max.connection.creation.rate", Type: TypeInt, Default: "2147483647", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium, Mode: ClusterWide,
			Doc: "The most new connections per second the broker accepts."},
	}
}
