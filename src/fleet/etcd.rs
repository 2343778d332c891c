//! The fleet's etcd client: etcd's own gRPC API (`proto/`), with its Rust code generated
//! once and kept in `proto/generated/` so that building galaxy-ha needs no protobuf
//! compiler. A test regenerates that code from the `.proto` files with a Rust protobuf
//! compiler and fails on any difference, so it cannot drift from the API it claims to be.
//!
//! Only what the fleet uses is wrapped here: ranges, puts, transactions and leases.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint};

/// The generated messages and clients of etcd's v3 API.
#[allow(clippy::all, clippy::pedantic, missing_docs, rustdoc::all)]
pub mod pb {
    pub mod mvccpb {
        include!("../../proto/generated/mvccpb.rs");
    }
    pub mod authpb {
        include!("../../proto/generated/authpb.rs");
    }
    pub mod etcdserverpb {
        include!("../../proto/generated/etcdserverpb.rs");
    }
}

use pb::etcdserverpb::{
    Compare, DeleteRangeRequest, LeaseGrantRequest, LeaseKeepAliveRequest, LeaseKeepAliveResponse,
    LeaseLeasesRequest, LeaseRevokeRequest, PutRequest, RangeRequest, RangeResponse, RequestOp,
    ResponseOp, TxnRequest, TxnResponse, compare, kv_client::KvClient, lease_client::LeaseClient,
    range_request, request_op, response_op,
};
pub use pb::mvccpb::KeyValue;

#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    #[error("{endpoint:?} is not a usable etcd endpoint: {message}")]
    Endpoint { endpoint: String, message: String },
    #[error("etcd answered {code:?}: {message}")]
    Status { code: tonic::Code, message: String },
    #[error("no answer from etcd in time")]
    Timeout,
    #[error("etcd closed the keep-alive stream")]
    Closed,
}

impl From<tonic::Status> for EtcdError {
    fn from(status: tonic::Status) -> Self {
        EtcdError::Status {
            code: status.code(),
            message: status.message().to_string(),
        }
    }
}

/// A connection to an etcd cluster, spread over its endpoints. Cheap to clone: clones share
/// the connection.
#[derive(Debug, Clone)]
pub struct Client {
    kv: KvClient<Channel>,
    leases: LeaseClient<Channel>,
}

impl Client {
    /// Connects lazily: etcd being down now is not an error, the first call fails instead.
    /// `timeout` bounds connecting, each call and the HTTP/2 keep-alive.
    ///
    /// # Errors
    /// An endpoint is not a URL.
    pub fn connect(endpoints: &[String], timeout: Duration) -> Result<Client, EtcdError> {
        let endpoints = endpoints
            .iter()
            .map(|e| {
                Endpoint::from_shared(e.clone())
                    .map(|ep| {
                        ep.connect_timeout(timeout)
                            .timeout(timeout)
                            .http2_keep_alive_interval(timeout)
                            .keep_alive_timeout(timeout)
                    })
                    .map_err(|err| EtcdError::Endpoint {
                        endpoint: e.clone(),
                        message: err.to_string(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let channel = Channel::balance_list(endpoints.into_iter());
        Ok(Client {
            kv: KvClient::new(channel.clone()),
            leases: LeaseClient::new(channel),
        })
    }

    /// Reads a key or a range.
    ///
    /// # Errors
    /// etcd refused or could not be reached.
    pub async fn get(&self, get: Get) -> Result<RangeResponse, EtcdError> {
        Ok(self.kv.clone().range(get.0).await?.into_inner())
    }

    /// Puts a value, bound to `lease` when given (etcd deletes it when the lease ends).
    ///
    /// # Errors
    /// etcd refused or could not be reached.
    pub async fn put(
        &self,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
        lease: Option<i64>,
    ) -> Result<(), EtcdError> {
        self.kv.clone().put(put_request(key, value, lease)).await?;
        Ok(())
    }

    /// Runs a transaction: its comparisons and the operations of the branch they chose,
    /// atomically.
    ///
    /// # Errors
    /// etcd refused or could not be reached.
    pub async fn txn(&self, txn: Txn) -> Result<TxnResponse, EtcdError> {
        Ok(self.kv.clone().txn(txn.0).await?.into_inner())
    }

    /// Grants a lease of `ttl` seconds; returns its id and the TTL etcd gave it.
    ///
    /// # Errors
    /// etcd refused or could not be reached.
    pub async fn grant(&self, ttl: i64) -> Result<(i64, i64), EtcdError> {
        let granted = self
            .leases
            .clone()
            .lease_grant(LeaseGrantRequest { ttl, id: 0 })
            .await?
            .into_inner();
        if !granted.error.is_empty() {
            return Err(EtcdError::Status {
                code: tonic::Code::Unknown,
                message: granted.error,
            });
        }
        Ok((granted.id, granted.ttl))
    }

    /// Ends a lease now; etcd deletes every key bound to it.
    ///
    /// # Errors
    /// etcd refused or could not be reached.
    pub async fn revoke(&self, lease: i64) -> Result<(), EtcdError> {
        self.leases
            .clone()
            .lease_revoke(LeaseRevokeRequest { id: lease })
            .await?;
        Ok(())
    }

    /// The ids of every lease etcd holds.
    ///
    /// # Errors
    /// etcd refused or could not be reached.
    pub async fn leases(&self) -> Result<Vec<i64>, EtcdError> {
        let listed = self
            .leases
            .clone()
            .lease_leases(LeaseLeasesRequest {})
            .await?
            .into_inner();
        Ok(listed.leases.iter().map(|l| l.id).collect())
    }

    /// Opens a keep-alive stream for `lease` and sends its first renewal; each
    /// [`KeepAlive::renew`] then reads one answer.
    ///
    /// # Errors
    /// etcd refused or could not be reached.
    pub async fn keep_alive(&self, lease: i64) -> Result<KeepAlive, EtcdError> {
        // etcd answers the call only with its first renewal, so that renewal is queued
        // before the call. One request waits in the channel at most: a renewal is sent only
        // after the previous one was answered.
        let (requests, queued) = mpsc::channel(1);
        requests
            .send(LeaseKeepAliveRequest { id: lease })
            .await
            .map_err(|_| EtcdError::Closed)?;
        let answers = self
            .leases
            .clone()
            .lease_keep_alive(ReceiverStream::new(queued))
            .await?
            .into_inner();
        Ok(KeepAlive {
            lease,
            requests,
            answers,
            sent: true,
        })
    }
}

/// An open keep-alive stream for one lease.
#[derive(Debug)]
pub struct KeepAlive {
    lease: i64,
    requests: mpsc::Sender<LeaseKeepAliveRequest>,
    answers: tonic::Streaming<LeaseKeepAliveResponse>,
    /// A renewal was sent and its answer not read yet.
    sent: bool,
}

impl KeepAlive {
    /// Renews the lease once; returns the TTL etcd answered, 0 when the lease has expired.
    ///
    /// # Errors
    /// The stream broke or etcd closed it.
    pub async fn renew(&mut self) -> Result<i64, EtcdError> {
        if !self.sent {
            self.requests
                .send(LeaseKeepAliveRequest { id: self.lease })
                .await
                .map_err(|_| EtcdError::Closed)?;
        }
        self.sent = false;
        match self.answers.message().await? {
            Some(answer) => Ok(answer.ttl),
            None => Err(EtcdError::Closed),
        }
    }
}

/// What to read: one key or every key under a prefix, with options.
#[derive(Debug, Clone)]
pub struct Get(RangeRequest);

impl Get {
    pub fn key(key: impl Into<Vec<u8>>) -> Get {
        Get(RangeRequest {
            key: key.into(),
            ..RangeRequest::default()
        })
    }

    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: impl Into<Vec<u8>>) -> Get {
        let key = prefix.into();
        let range_end = prefix_end(&key);
        Get(RangeRequest {
            key,
            range_end,
            ..RangeRequest::default()
        })
    }

    #[must_use]
    pub fn keys_only(mut self) -> Get {
        self.0.keys_only = true;
        self
    }

    /// Sorted by key, newest (highest) first when `descending`.
    #[must_use]
    pub fn sorted_by_key(mut self, descending: bool) -> Get {
        self.0.sort_target = range_request::SortTarget::Key.into();
        self.0.sort_order = if descending {
            range_request::SortOrder::Descend
        } else {
            range_request::SortOrder::Ascend
        }
        .into();
        self
    }

    #[must_use]
    pub fn limit(mut self, limit: i64) -> Get {
        self.0.limit = limit;
        self
    }
}

/// The end of the range holding every key that starts with `prefix`: the prefix with its
/// last byte below 0xff incremented and what follows dropped (etcd's convention; `\0` for
/// "to the end" when every byte is 0xff).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

fn put_request(
    key: impl Into<Vec<u8>>,
    value: impl Into<Vec<u8>>,
    lease: Option<i64>,
) -> PutRequest {
    PutRequest {
        key: key.into(),
        value: value.into(),
        lease: lease.unwrap_or(0),
        ..PutRequest::default()
    }
}

/// A comparison a transaction makes before choosing its branch.
pub mod when {
    use super::{Compare, compare};

    fn equal(
        key: impl Into<Vec<u8>>,
        target: compare::CompareTarget,
        union: compare::TargetUnion,
    ) -> Compare {
        Compare {
            result: compare::CompareResult::Equal.into(),
            target: target.into(),
            key: key.into(),
            range_end: Vec::new(),
            target_union: Some(union),
        }
    }

    /// The key does not exist (it was never created, or was deleted).
    pub fn absent(key: impl Into<Vec<u8>>) -> Compare {
        equal(
            key,
            compare::CompareTarget::Create,
            compare::TargetUnion::CreateRevision(0),
        )
    }

    /// The key is bound to `lease`.
    pub fn leased_to(key: impl Into<Vec<u8>>, lease: i64) -> Compare {
        equal(
            key,
            compare::CompareTarget::Lease,
            compare::TargetUnion::Lease(lease),
        )
    }

    /// The key holds exactly `value`.
    pub fn holds(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Compare {
        equal(
            key,
            compare::CompareTarget::Value,
            compare::TargetUnion::Value(value.into()),
        )
    }
}

/// One operation of a transaction.
pub mod op {
    use super::{DeleteRangeRequest, Get, RequestOp, request_op};

    pub fn get(get: Get) -> RequestOp {
        RequestOp {
            request: Some(request_op::Request::RequestRange(get.0)),
        }
    }

    pub fn put(
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
        lease: Option<i64>,
    ) -> RequestOp {
        RequestOp {
            request: Some(request_op::Request::RequestPut(super::put_request(
                key, value, lease,
            ))),
        }
    }

    pub fn delete(key: impl Into<Vec<u8>>) -> RequestOp {
        RequestOp {
            request: Some(request_op::Request::RequestDeleteRange(
                DeleteRangeRequest {
                    key: key.into(),
                    ..DeleteRangeRequest::default()
                },
            )),
        }
    }
}

/// A transaction: if every comparison holds, the `then` operations, else the `otherwise` ones.
#[derive(Debug, Clone, Default)]
pub struct Txn(TxnRequest);

impl Txn {
    pub fn new() -> Txn {
        Txn::default()
    }

    #[must_use]
    pub fn when(mut self, compares: impl IntoIterator<Item = Compare>) -> Txn {
        self.0.compare.extend(compares);
        self
    }

    #[must_use]
    pub fn then(mut self, ops: impl IntoIterator<Item = RequestOp>) -> Txn {
        self.0.success.extend(ops);
        self
    }

    #[must_use]
    pub fn otherwise(mut self, ops: impl IntoIterator<Item = RequestOp>) -> Txn {
        self.0.failure.extend(ops);
        self
    }
}

/// The ranges a transaction's gets answered, in order; other answers are skipped.
pub fn ranges(response: &TxnResponse) -> impl Iterator<Item = &RangeResponse> {
    response
        .responses
        .iter()
        .filter_map(|r: &ResponseOp| match &r.response {
            Some(response_op::Response::ResponseRange(range)) => Some(range),
            _ => None,
        })
}

/// The part of `kv`'s key after `prefix`, when it is UTF-8 and starts with it.
pub fn key_after<'a>(kv: &'a KeyValue, prefix: &str) -> Option<&'a str> {
    std::str::from_utf8(&kv.key).ok()?.strip_prefix(prefix)
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn a_prefix_range_ends_after_every_key_that_starts_with_it() {
        assert_eq!(
            prefix_end(b"/galaxy-ha/v1/owners/"),
            b"/galaxy-ha/v1/owners0".to_vec()
        );
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff\xff"), vec![0]);
    }
}
