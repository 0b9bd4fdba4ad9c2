#!/usr/bin/env node
// kafkajs round trip against a Kafka-compatible broker.
//
// admin.createTopics and fetchTopicMetadata, then a producer sending keyed
// records with headers and explicit timestamps to chosen partitions with
// the codec asked for, a read-back by partition, and the offsets:
// admin.fetchTopicOffsets (earliest/latest) and fetchTopicOffsetsByTimestamp.
//
// kafkajs has no public consumer without a group (no assign()). The
// read-back uses kafkajs's own Cluster and Broker.fetch, the code its group
// consumer fetches with, minus the group: the same Fetch request, record
// batch decoding and decompression. It reaches them through kafkajs's
// private cluster factory, which package-lock.json pins to one version.
// With --group it also consumes the topic as a consumer group (JoinGroup,
// SyncGroup, OffsetFetch, Heartbeat...), the public way.
//
// Codecs: gzip is built into kafkajs; snappy comes from kafkajs-snappy
// (pure JS), lz4 from kafkajs-lz4 (native lz4 addon), zstd from a codec
// written on zstd-napi (the kafkajs project's @kafkajs/zstd does not build
// on Node 20); codecs.js registers them.
//
// Usage: node roundtrip.js BOOTSTRAP TOPIC CODEC [-n N] [--group]
// Exits non-zero with a message saying what did not match.
'use strict'

const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs')
require('./codecs')

const PARTITIONS = 2
const TIMEOUT_MS = 10000
const CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

class Mismatch extends Error {}

function expect(what, got, want) {
  const g = JSON.stringify(got)
  const w = JSON.stringify(want)
  if (g !== w) throw new Mismatch(`${what}: got ${g}, want ${w}`)
}

function parseArgs(argv) {
  const usage = 'usage: roundtrip.js BOOTSTRAP TOPIC CODEC [-n N] [--group]'
  const pos = []
  const a = { n: 50, group: false }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-n') a.n = parseInt(argv[++i], 10)
    else if (argv[i] === '--group') a.group = true
    else pos.push(argv[i])
  }
  if (pos.length !== 3 || !(pos[2] in CODECS) || !(a.n > 0) || a.n % PARTITIONS) {
    console.error(usage + `\n  CODEC: ${Object.keys(CODECS).join(', ')}; N a multiple of ${PARTITIONS}`)
    process.exit(2)
  }
  ;[a.bootstrap, a.topic, a.codec] = pos
  return a
}

// The records every client in compat/ sends: record i to partition i % 2,
// key-i, a compressible value, two headers, timestamp base + i.
function makeRecords(n, codec) {
  const base = Date.now() - 60000
  const recs = []
  for (let i = 0; i < n; i++) {
    const pad = String(i).padStart(4, '0')
    recs.push({
      i,
      partition: i % PARTITIONS,
      offset: Math.floor(i / PARTITIONS),
      key: `key-${pad}`,
      value: `value-${pad}-${codec}-${'abcdefgh'.repeat(8)}`,
      headers: [
        ['h-index', String(i)],
        ['h-codec', codec],
      ],
      timestamp: base + i,
    })
  }
  return recs
}

function byPartition(recs) {
  const out = []
  for (let p = 0; p < PARTITIONS; p++) out.push(recs.filter(r => r.partition === p))
  return out
}

function checkPartition(p, want, got) {
  if (got.length !== want.length) throw new Mismatch(`partition ${p}: read ${got.length} records, want ${want.length}`)
  want.forEach((w, k) => {
    const g = got[k]
    const where = `partition ${p} offset ${g.offset} (record ${w.i})`
    expect(`${where}: offset`, g.offset, w.offset)
    expect(`${where}: key`, g.key, w.key)
    expect(`${where}: value`, g.value, w.value)
    expect(`${where}: headers`, g.headers, w.headers)
    expect(`${where}: timestamp`, g.timestamp, w.timestamp)
  })
}

// A decoded kafkajs record, as plain values to compare.
function plain(m) {
  return {
    offset: Number(m.offset),
    key: m.key === null ? null : m.key.toString(),
    value: m.value === null ? null : m.value.toString(),
    headers: Object.entries(m.headers || {}).flatMap(([k, v]) =>
      (Array.isArray(v) ? v : [v]).map(x => [k, x.toString()])
    ),
    timestamp: Number(m.timestamp),
  }
}

// kafkajs's private factory for its Cluster, the object its consumer and
// producer are built on.
function createCluster(kafka) {
  const sym = Object.getOwnPropertySymbols(kafka).find(s => s.description === 'private:Kafka:createCluster')
  if (!sym) throw new Error('kafkajs internals changed: no private:Kafka:createCluster on the client')
  return kafka[sym]({ allowAutoTopicCreation: false })
}

// Reads every partition from offset 0 up to its count with Fetch requests
// to the leaders: no group, no coordinator.
async function fetchByPartition(kafka, topic, counts) {
  const cluster = createCluster(kafka)
  await cluster.connect()
  try {
    await cluster.addTargetTopic(topic)
    await cluster.refreshMetadata()
    const got = counts.map(() => [])
    const next = counts.map(() => 0)
    const deadline = Date.now() + TIMEOUT_MS
    const byLeader = cluster.findLeaderForPartitions(
      topic,
      counts.map((_, p) => p)
    )
    while (got.some((g, p) => g.length < counts[p])) {
      if (Date.now() > deadline) throw new Mismatch(`fetch: timed out; read ${got.map(g => g.length)} per partition`)
      for (const [leader, partitions] of Object.entries(byLeader)) {
        const broker = await cluster.findBroker({ nodeId: leader })
        const res = await broker.fetch({
          maxWaitTime: 100,
          topics: [
            {
              topic,
              partitions: partitions.map(p => ({ partition: p, fetchOffset: String(next[p]), maxBytes: 1 << 20 })),
            },
          ],
        })
        for (const t of res.responses) {
          for (const pd of t.partitions) {
            if (pd.errorCode !== 0) throw new Mismatch(`fetch partition ${pd.partition}: error code ${pd.errorCode}`)
            for (const m of pd.messages) {
              // A compressed batch may start before the offset asked for.
              if (m.isControlRecord || Number(m.offset) < next[pd.partition]) continue
              got[pd.partition].push(plain(m))
              next[pd.partition] = Number(m.offset) + 1
            }
          }
        }
      }
    }
    return got
  } finally {
    await cluster.disconnect()
  }
}

// Reads the topic as a consumer group: needs the broker's group coordinator.
async function consumeAsGroup(kafka, topic, n) {
  const consumer = kafka.consumer({ groupId: `${topic}-group`, maxWaitTimeInMs: 100 })
  const got = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    let done
    const all = new Promise(resolve => (done = resolve))
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({ partition, ...plain(message) })
        if (got.length >= n) done()
      },
    })
    const timer = new Promise((_, reject) =>
      setTimeout(() => reject(new Mismatch(`group consume: timed out after ${got.length} of ${n} records`)), TIMEOUT_MS)
    )
    await Promise.race([all, timer])
  } finally {
    await consumer.disconnect()
  }
  return got
}

async function run(a) {
  const kafka = new Kafka({
    clientId: 'samsa-compat-kafkajs',
    brokers: [a.bootstrap],
    logLevel: logLevel.ERROR,
    retry: { retries: 3 },
  })

  const admin = kafka.admin()
  await admin.connect()
  const created = await admin.createTopics({
    topics: [{ topic: a.topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    waitForLeaders: true,
  })
  if (!created) throw new Mismatch(`createTopics: ${a.topic} already existed`)
  const md = await admin.fetchTopicMetadata({ topics: [a.topic] })
  const parts = md.topics[0].partitions
  expect('metadata partitions', parts.map(p => p.partitionId).sort(), [0, 1])
  for (const p of parts) {
    if (!(p.leader >= 0)) throw new Mismatch(`metadata: partition ${p.partitionId} has no leader (${p.leader})`)
  }

  const recs = makeRecords(a.n, a.codec)
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  const meta = await producer.send({
    topic: a.topic,
    acks: -1,
    compression: CODECS[a.codec],
    messages: recs.map(r => ({
      key: r.key,
      value: r.value,
      partition: r.partition,
      headers: Object.fromEntries(r.headers),
      timestamp: String(r.timestamp),
    })),
  })
  await producer.disconnect()
  for (const m of meta) {
    if (m.errorCode !== 0) throw new Mismatch(`produce partition ${m.partition}: error code ${m.errorCode}`)
  }
  expect(
    'produce base offsets',
    meta.map(m => [m.partition, m.baseOffset]).sort(),
    [...Array(PARTITIONS).keys()].map(p => [p, '0'])
  )

  const want = byPartition(recs)
  const got = await fetchByPartition(
    kafka,
    a.topic,
    want.map(w => w.length)
  )
  want.forEach((w, p) => checkPartition(p, w, got[p]))

  const offsets = await admin.fetchTopicOffsets(a.topic)
  expect(
    'fetchTopicOffsets [partition, low, high]',
    offsets.map(o => [o.partition, o.low, o.high]).sort(),
    want.map((w, p) => [p, '0', String(w.length)])
  )
  // kafkajs asks for all partitions at one timestamp, and answers the
  // latest offset where the broker found none (offset -1).
  const mid = Math.floor(want[0].length / 2)
  const last = recs[recs.length - 1].timestamp
  const queries = [
    [0, 'timestamp 0', () => 0],
    // Partition 1 holds the odd timestamps: base+2k+1 is its offset k.
    [want[0][mid].timestamp, `partition 0 offset ${mid}'s timestamp`, () => mid],
    [want[0][mid].timestamp - 1, `1 ms before partition 0 offset ${mid}'s timestamp`, p => (p === 0 ? mid : mid - 1)],
    [last + 1, '1 ms after the last record', p => want[p].length],
  ]
  for (const [ts, what, wantOffset] of queries) {
    const res = await admin.fetchTopicOffsetsByTimestamp(a.topic, ts)
    expect(
      `fetchTopicOffsetsByTimestamp for ${what} (${ts}) [partition, offset]`,
      res.map(o => [o.partition, Number(o.offset)]).sort(),
      want.map((_, p) => [p, wantOffset(p)])
    )
  }
  await admin.disconnect()

  if (a.group) {
    const g = await consumeAsGroup(kafka, a.topic, a.n)
    want.forEach((w, p) =>
      checkPartition(
        p,
        w,
        g.filter(m => m.partition === p).map(({ partition, ...m }) => m)
      )
    )
  }
  console.log(
    `kafkajs roundtrip (${a.codec}): ok, ${a.n} records in ${PARTITIONS} partitions${a.group ? ', also read as a group' : ''}`
  )
}

const args = parseArgs(process.argv.slice(2))
run(args).then(
  () => process.exit(0),
  e => {
    const kind = e instanceof Mismatch ? 'MISMATCH' : 'ERROR'
    console.error(`kafkajs roundtrip (${args.codec}): ${kind}: ${e instanceof Mismatch ? e.message : e.stack || e}`)
    process.exit(1)
  }
)
