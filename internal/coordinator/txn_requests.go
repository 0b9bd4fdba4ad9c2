package coordinator

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/coordinator/txn"
)

// InitProducerID handles an InitProducerId. Without a transactional id (an
// idempotent producer) it needs no shard: a new producer id at epoch 0.
func (c *TxnCoordinator) InitProducerID(ctx context.Context, req *kmsg.InitProducerIDRequest) kmsg.Response {
	if req.TransactionalID == nil {
		resp := kmsg.NewPtrInitProducerIDResponse()
		resp.Version = req.Version
		pid, err := c.cfg.Txn.ProducerIDs.Next()
		if err != nil {
			resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch = allocCode(err), -1, -1
			return resp
		}
		resp.ProducerID, resp.ProducerEpoch = pid, 0
		return resp
	}
	return c.do(ctx, *req.TransactionalID, req, func(s *txn.Shard, now time.Time, h txn.Handle) txn.Effects {
		return s.InitProducerID(now, h, req)
	})
}

func allocCode(err error) int16 {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.CoordinatorLoadInProgress.Code
}

// AddPartitionsToTxn handles an AddPartitionsToTxn whose partitions the
// API layer authorized: v0-3 one transaction, v4+ one shard operation per
// transaction, merged.
func (c *TxnCoordinator) AddPartitionsToTxn(ctx context.Context, req *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	if req.Version < 4 {
		rt := kmsg.NewAddPartitionsToTxnRequestTransaction()
		rt.TransactionalID, rt.ProducerID, rt.ProducerEpoch = req.TransactionalID, req.ProducerID, req.ProducerEpoch
		for _, t := range req.Topics {
			rt.Topics = append(rt.Topics, kmsg.AddPartitionsToTxnRequestTransactionTopic{Topic: t.Topic, Partitions: t.Partitions})
		}
		return c.addOne(ctx, req, rt)
	}
	resp := kmsg.NewPtrAddPartitionsToTxnResponse()
	resp.Version = req.Version
	for _, rt := range req.Transactions {
		r := c.addOne(ctx, req, rt)
		resp.Transactions = append(resp.Transactions, r.Transactions...)
	}
	return resp
}

func (c *TxnCoordinator) addOne(ctx context.Context, req *kmsg.AddPartitionsToTxnRequest, rt kmsg.AddPartitionsToTxnRequestTransaction) *kmsg.AddPartitionsToTxnResponse {
	r := c.do(ctx, rt.TransactionalID, oneTxn(req, rt), func(s *txn.Shard, now time.Time, h txn.Handle) txn.Effects {
		return s.AddPartitions(now, h, req.Version, rt)
	})
	return r.(*kmsg.AddPartitionsToTxnResponse)
}

// oneTxn is a request holding only rt, for its error response.
func oneTxn(req *kmsg.AddPartitionsToTxnRequest, rt kmsg.AddPartitionsToTxnRequestTransaction) *kmsg.AddPartitionsToTxnRequest {
	one := *req
	if req.Version >= 4 {
		one.Transactions = []kmsg.AddPartitionsToTxnRequestTransaction{rt}
	}
	return &one
}

// AddOffsetsToTxn handles an AddOffsetsToTxn.
func (c *TxnCoordinator) AddOffsetsToTxn(ctx context.Context, req *kmsg.AddOffsetsToTxnRequest) kmsg.Response {
	p := c.OffsetsPartitionFor(req.Group)
	return c.do(ctx, req.TransactionalID, req, func(s *txn.Shard, now time.Time, h txn.Handle) txn.Effects {
		return s.AddOffsets(now, h, req, p)
	})
}

// EndTxn handles an EndTxn.
func (c *TxnCoordinator) EndTxn(ctx context.Context, req *kmsg.EndTxnRequest) kmsg.Response {
	return c.do(ctx, req.TransactionalID, req, func(s *txn.Shard, now time.Time, h txn.Handle) txn.Effects {
		return s.EndTxn(now, h, req)
	})
}

// DescribeTransaction describes one transactional id.
func (c *TxnCoordinator) DescribeTransaction(ctx context.Context, id string) kmsg.DescribeTransactionsResponseTransactionState {
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{id}
	r := c.do(ctx, id, req, func(s *txn.Shard, _ time.Time, h txn.Handle) txn.Effects {
		resp := kmsg.NewPtrDescribeTransactionsResponse()
		resp.TransactionStates = []kmsg.DescribeTransactionsResponseTransactionState{s.Describe(id)}
		return txn.Effects{Responses: []txn.Response{{Handle: h, Msg: resp}}}
	})
	return r.(*kmsg.DescribeTransactionsResponse).TransactionStates[0]
}

// ListTransactions lists the transactions of every shard this node leads,
// sorted by id, with the state filters that name no state.
func (c *TxnCoordinator) ListTransactions(ctx context.Context, f txn.ListFilter) (*kmsg.ListTransactionsResponse, error) {
	resp := kmsg.NewPtrListTransactionsResponse()
	t := c.rt.topicMeta()
	if t == nil {
		resp.UnknownStateFilters = unknownStates(f.States)
		return resp, nil
	}
	for p := range int32(len(t.Partitions)) {
		if t.Partitions[p].Leader != c.cfg.NodeID {
			continue
		}
		if err := c.listShard(ctx, p, f, resp); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(resp.TransactionStates, func(a, b kmsg.ListTransactionsResponseTransactionState) int {
		return strings.Compare(a.TransactionalID, b.TransactionalID)
	})
	return resp, nil
}

func (c *TxnCoordinator) listShard(ctx context.Context, p int32, f txn.ListFilter, out *kmsg.ListTransactionsResponse) error {
	s, ok := c.rt.ledShard(p)
	if !ok {
		out.ErrorCode = kerr.NotCoordinator.Code
		return nil
	}
	req := kmsg.NewPtrListTransactionsRequest()
	op := txnOp{call: newCall(req), fn: func(st *txn.Shard, now time.Time, h txn.Handle) txn.Effects {
		r := kmsg.NewPtrListTransactionsResponse()
		r.TransactionStates, r.UnknownStateFilters = st.List(now, f)
		return txn.Effects{Responses: []txn.Response{{Handle: h, Msg: r}}}
	}}
	r, err := s.submit(ctx, c.rt.stop, op, op.resp)
	switch {
	case errors.Is(err, errShardGone):
		out.ErrorCode = kerr.NotCoordinator.Code
		return nil
	case err != nil:
		return err
	}
	lr := r.(*kmsg.ListTransactionsResponse)
	if lr.ErrorCode != 0 && out.ErrorCode == 0 {
		out.ErrorCode = lr.ErrorCode
	}
	out.TransactionStates = append(out.TransactionStates, lr.TransactionStates...)
	out.UnknownStateFilters = lr.UnknownStateFilters
	return nil
}

// unknownStates are the filters naming no state, when no shard lists them.
func unknownStates(names []string) []string {
	known := []string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}
	var out []string
	for _, n := range names {
		if !slices.Contains(known, n) {
			out = append(out, n)
		}
	}
	return out
}

// txnErrorResponse answers a transaction request with code.
func txnErrorResponse(req kmsg.Request, code int16) kmsg.Response {
	switch r := req.(type) {
	case *kmsg.InitProducerIDRequest:
		resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
		resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch = code, -1, -1
		return resp
	case *kmsg.EndTxnRequest:
		resp := r.ResponseKind().(*kmsg.EndTxnResponse)
		resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch = code, -1, -1
		return resp
	case *kmsg.AddOffsetsToTxnRequest:
		resp := r.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
		resp.ErrorCode = code
		return resp
	case *kmsg.AddPartitionsToTxnRequest:
		return addError(r, code)
	case *kmsg.DescribeTransactionsRequest:
		resp := r.ResponseKind().(*kmsg.DescribeTransactionsResponse)
		for _, id := range r.TransactionalIDs {
			d := kmsg.NewDescribeTransactionsResponseTransactionState()
			d.TransactionalID, d.ErrorCode = id, code
			resp.TransactionStates = append(resp.TransactionStates, d)
		}
		return resp
	case *kmsg.ListTransactionsRequest:
		resp := r.ResponseKind().(*kmsg.ListTransactionsResponse)
		resp.ErrorCode = code
		return resp
	}
	return errorResponse(req, code)
}

func addError(r *kmsg.AddPartitionsToTxnRequest, code int16) *kmsg.AddPartitionsToTxnResponse {
	resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewAddPartitionsToTxnResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, kmsg.AddPartitionsToTxnResponseTopicPartition{Partition: p, ErrorCode: code})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	for _, tx := range r.Transactions {
		resp.Transactions = append(resp.Transactions, TxnFailed(tx, code))
	}
	return resp
}

// TxnFailed answers every partition of one transaction of an
// AddPartitionsToTxn v4+ request with code.
func TxnFailed(tx kmsg.AddPartitionsToTxnRequestTransaction, code int16) kmsg.AddPartitionsToTxnResponseTransaction {
	res := kmsg.NewAddPartitionsToTxnResponseTransaction()
	res.TransactionalID = tx.TransactionalID
	for _, t := range tx.Topics {
		rt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, kmsg.AddPartitionsToTxnResponseTransactionTopicPartition{Partition: p, ErrorCode: code})
		}
		res.Topics = append(res.Topics, rt)
	}
	return res
}
