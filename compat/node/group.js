#!/usr/bin/env node
// kafkajs consumer group member.
//
// consumer.subscribe to TOPIC in GROUP and run with eachBatch and autoCommit
// off: for each batch, print one line per record ("R<TAB>partition<TAB>
// offset<TAB>key<TAB>value"), wait until the lines are written, then commit
// the batch's end offset synchronously (consumer.commitOffsets). Each
// assignment is printed too ("A<TAB>partitions", from the GROUP_JOIN event).
// With --count N it exits after N records, failing on any error; without, it
// runs until SIGTERM, when it disconnects (leaving the group), and only
// reports commit errors, which rebalances cause. kafkajs's own logs go to
// stderr.
//
// compat/kafkajs_test.go runs it with --count after the round trip;
// compat/group_churn_test.go runs four without, killing and restarting them.
//
// Usage: node group.js BOOTSTRAP TOPIC GROUP [--count N] [--session-timeout-ms MS]
'use strict'

const { Kafka, logLevel } = require('kafkajs')
require('./codecs') // for whatever codec the producers chose

function parseArgs(argv) {
  const usage = 'usage: group.js BOOTSTRAP TOPIC GROUP [--count N] [--session-timeout-ms MS]'
  const pos = []
  const a = { count: null, sessionTimeout: 10000 }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--count') a.count = parseInt(argv[++i], 10)
    else if (argv[i] === '--session-timeout-ms') a.sessionTimeout = parseInt(argv[++i], 10)
    else pos.push(argv[i])
  }
  if (pos.length !== 3 || (a.count !== null && !(a.count > 0)) || !(a.sessionTimeout > 0)) {
    console.error(usage)
    process.exit(2)
  }
  ;[a.bootstrap, a.topic, a.group] = pos
  return a
}

// Writes to stdout and resolves once the data is handed to the pipe: a
// record is processed when its line is out, before its offset is committed,
// so that a kill loses no line.
function emit(text) {
  return new Promise((resolve, reject) => process.stdout.write(text, err => (err ? reject(err) : resolve())))
}

const str = b => (b === null ? '' : b.toString())

async function run(a) {
  const kafka = new Kafka({
    clientId: 'samsa-compat-kafkajs-group',
    brokers: [a.bootstrap],
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log }) =>
      process.stderr.write(`kafkajs ${level} ${namespace}: ${log.message} ${log.error || ''}\n`),
  })
  const consumer = kafka.consumer({
    groupId: a.group,
    sessionTimeout: a.sessionTimeout,
    heartbeatInterval: Math.min(1000, Math.floor(a.sessionTimeout / 3)),
    rebalanceTimeout: Math.max(10000, a.sessionTimeout),
    maxWaitTimeInMs: 100,
  })
  let processed = 0
  let finish
  const finished = new Promise(resolve => (finish = resolve))
  let failure = null
  const fail = e => {
    failure = failure || e
    finish()
  }
  process.on('SIGTERM', () => finish())
  consumer.on(consumer.events.GROUP_JOIN, e => {
    const parts = (e.payload.memberAssignment[a.topic] || []).slice().sort((x, y) => x - y)
    emit(`A\t${parts.join(',')}\n`).catch(fail)
  })
  // A crash kafkajs does not restart from leaves a member that consumes
  // nothing: exit instead, so that the test sees it.
  consumer.on(consumer.events.CRASH, e => {
    if (a.count !== null || !e.payload.restart) fail(e.payload.error)
    else process.stderr.write(`kafkajs group: consumer crashed, kafkajs restarts it: ${e.payload.error}\n`)
  })

  await consumer.connect()
  await consumer.subscribe({ topic: a.topic, fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (!isRunning() || isStale()) return
      let msgs = batch.messages
      if (a.count !== null) msgs = msgs.slice(0, a.count - processed)
      if (msgs.length === 0) return
      await emit(
        msgs.map(m => `R\t${batch.partition}\t${m.offset}\t${str(m.key)}\t${str(m.value)}\n`).join('')
      )
      processed += msgs.length
      const last = msgs[msgs.length - 1].offset
      resolveOffset(last)
      try {
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: String(Number(last) + 1) },
        ])
      } catch (e) {
        if (a.count !== null) throw e
        process.stderr.write(`kafkajs group: commit failed: ${e.message}\n`)
      }
      await heartbeat()
      if (a.count !== null && processed >= a.count) finish()
    },
  })
  await finished
  await consumer.disconnect()
  if (failure) throw failure
  process.stderr.write(`kafkajs group ${a.group}: processed ${processed} records\n`)
}

const args = parseArgs(process.argv.slice(2))
run(args).then(
  () => process.exit(0),
  e => {
    console.error(`kafkajs group (${args.group}): ERROR: ${e.stack || e}`)
    process.exit(1)
  }
)
